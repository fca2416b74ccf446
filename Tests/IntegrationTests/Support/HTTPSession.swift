import Foundation
import Testing

/// One step of an `HTTPSession`.
struct SessionStep: Encodable {
    var method: String?
    var path: String?
    /// Base64, so any bytes travel.
    var body: String?
    /// A program and its arguments, run between requests; the connection stays open meanwhile.
    var run: [String]?
    /// Base64 of a whole request, sent on a connection of its own and read until the server closes it.
    var raw: String?

    /// A request on the session's keep-alive connection.
    static func request(_ method: String, _ path: String, body: String? = nil) -> SessionStep {
        SessionStep(method: method, path: path, body: body.map { Data($0.utf8).base64EncodedString() })
    }

    static func get(_ path: String) -> SessionStep { request("GET", path) }

    static func run(_ command: [String]) -> SessionStep { SessionStep(run: command) }

    static func raw(_ request: String) -> SessionStep { SessionStep(raw: Data(request.utf8).base64EncodedString()) }
}

/// What one step gave: a response (for requests) or an exit status (for `run`).
struct SessionReply: Decodable {
    /// Base64 of the response: as received for `raw`, rebuilt from http.client's parse otherwise.
    var bytes: String?
    /// How many connections the session had opened when the response came: 1 means keep-alive held.
    var connection: Int?
    var exit: Int32?
    /// When the step ended (CLOCK_MONOTONIC, seconds), and which process the session was.
    var at: Double
    var pid: Int32

    var response: HTTPResponse? { bytes.flatMap { Data(base64Encoded: $0) }.flatMap { HTTPResponse(Array($0)) } }
    var answer: Answer? { response.map(Answer.init) }
}

/// An HTTP client over the guest socket, run by python3 inside a guest process, so every
/// connection's peer is that guest's descendant. Its requests share one keep-alive connection
/// (a new one only when the server closed it, which `connection` counts).
enum HTTPSession {
    static func run(
        _ steps: [SessionStep], socket: String, in process: GuestProcess,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [SessionReply] {
        let json = String(decoding: try JSONEncoder().encode(steps), as: UTF8.self)
        let output = try process.run(shellCommand(["/usr/bin/python3", "-c", script, socket, json]))
        try #require(output.status == 0, "python session exited \(output.status): \(output.stderr)", sourceLocation: sourceLocation)
        return try output.stdout.split(separator: UInt8(ascii: "\n"))
            .map { try JSONDecoder().decode(SessionReply.self, from: Data($0)) }
    }

    private static let script = #"""
        import base64, http.client, json, os, socket, subprocess, sys, time

        path, steps = sys.argv[1], json.loads(sys.argv[2])

        def open_socket():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(path)
            return s

        class Connection(http.client.HTTPConnection):
            connects = 0
            def __init__(self):
                super().__init__("guest", timeout=10)
            def connect(self):
                self.sock = open_socket()
                self.connects += 1

        def raw(request):
            s = open_socket()
            s.sendall(request)
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
            s.close()
            return b"".join(chunks)

        def rebuilt(response, body):
            head = "HTTP/1.1 %d %s\r\n" % (response.status, response.reason)
            head += "".join("%s: %s\r\n" % pair for pair in response.getheaders())
            return (head + "\r\n").encode("latin-1") + body

        conn = Connection()
        for step in steps:
            if "run" in step:
                reply = {"exit": subprocess.run(step["run"], stdout=subprocess.DEVNULL).returncode}
            elif "raw" in step:
                reply = {"bytes": base64.b64encode(raw(base64.b64decode(step["raw"]))).decode()}
            else:
                body = base64.b64decode(step["body"]) if "body" in step else None
                try:
                    conn.request(step["method"], step["path"], body=body)
                    response = conn.getresponse()
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    # The server had closed the idle connection: once more, on a new one.
                    conn.close()
                    conn.request(step["method"], step["path"], body=body)
                    response = conn.getresponse()
                data = response.read()
                reply = {"bytes": base64.b64encode(rebuilt(response, data)).decode(), "connection": conn.connects}
            reply.update(at=time.monotonic(), pid=os.getpid())
            print(json.dumps(reply), flush=True)
        """#
}

/// Words as one POSIX shell command line, each single-quoted.
func shellCommand(_ words: [String]) -> String {
    words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
}
