/// The WebSocket event client the tests run inside a guest: Debian's websocket-client over
/// the daemon's Unix socket (`/usr/bin/python3`; the `python3` on PATH may lack the module).
///
/// usage: client.py SOCKET PATH [GO_FILE]
///
/// Prints one JSON value per line, flushed at once: `{"status": N}` after the handshake (101
/// when upgraded, else the error status, and it stops), then each text message as a JSON
/// string (its exact text; a message in fragments, whole), then `{"closed": CODE}` on a close
/// frame or `{"closed": null}`
/// when the connection just ends. With GO_FILE it reads nothing after the handshake until that
/// file exists: a subscriber that does not keep up.
enum EventClientScript {
    static let source = #"""
        import json, os, socket, sys, time
        import websocket

        def emit(value):
            sys.stdout.write(json.dumps(value) + "\n")
            sys.stdout.flush()

        path, resource = sys.argv[1], sys.argv[2]
        go = sys.argv[3] if len(sys.argv) > 3 else None
        unix = socket.socket(socket.AF_UNIX)
        unix.connect(path)
        # Python decodes (and so checks) UTF-8 natively; websocket-client's own check is pure Python, slow.
        ws = websocket.WebSocket(skip_utf8_validation=True)
        try:
            ws.connect("ws://localhost" + resource, socket=unix)
        except websocket.WebSocketBadStatusException as error:
            emit({"status": error.status_code})
            sys.exit(0)
        emit({"status": 101})
        while go and not os.path.exists(go):
            time.sleep(0.005)
        fragments = None  # a message in fragments (a large event), until its last
        while True:
            try:
                frame = ws.recv_frame()
            except Exception:
                emit({"closed": None})
                break
            if frame.opcode == websocket.ABNF.OPCODE_TEXT and fragments is None:
                fragments = [frame.data]
            elif frame.opcode == websocket.ABNF.OPCODE_CONT and fragments is not None:
                fragments.append(frame.data)
            elif frame.opcode == websocket.ABNF.OPCODE_PING:
                ws.pong(frame.data)
                continue
            elif frame.opcode == websocket.ABNF.OPCODE_CLOSE:
                emit({"closed": int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else None})
                break
            else:
                emit({"unexpected_frame": [frame.opcode, frame.fin]})
                continue
            if frame.fin:
                emit(b"".join(fragments).decode("utf-8"))
                fragments = None
        """#
}
