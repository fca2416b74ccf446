// guestapi-floor: the reference server of `tools/bench-http.sh --floor`. SwiftNIO on a Unix
// socket, one channel per connection as guestapid has, answering every request with the same
// bytes: no identity, no HTTP parsing beyond a request's end, no database. What guestapid
// costs above it is guestapid's own; what it costs above nginx is NIO's.
//
// usage: guestapi-floor SOCKET BODY
import Foundation
import NIOCore
import NIOPosix

/// Answers each request (up to its empty line) with 200 and the body; closes after the
/// answer when the request asked to (`Connection: close`, as guestapi-load's churn mode does).
final class CannedAnswer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let keepAlive: ByteBuffer
    private let close: ByteBuffer
    private var unread = ByteBuffer()

    init(body: String) {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: \(body.utf8.count)\r\n"
        keepAlive = ByteBuffer(string: head + "\r\n" + body)
        close = ByteBuffer(string: head + "Connection: close\r\n\r\n" + body)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if unread.readableBytes == 0 { unread = bytes } else { unread.writeBuffer(&bytes) }
        while let asksToClose = takeHead() {
            guard asksToClose else {
                context.write(wrapOutboundOut(keepAlive), promise: nil)
                continue
            }
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(close)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        // A head that never ends is not kept for ever.
        if unread.readableBytes > 16 * 1024 { context.close(promise: nil) }
    }

    private static let closeField = Array("Connection: close".utf8)

    /// Takes the next whole request head from what was read: whether it asks to close; nil
    /// while none is whole.
    private func takeHead() -> Bool? {
        let head = unread.withUnsafeReadableBytes { bytes -> (length: Int, close: Bool)? in
            guard bytes.count >= 4,
                let end = (3..<bytes.count).first(where: {
                    bytes[$0] == 10 && bytes[$0 - 1] == 13 && bytes[$0 - 2] == 10 && bytes[$0 - 3] == 13
                })
            else { return nil }
            let field = Self.closeField
            let close =
                end >= field.count
                && (0...(end - field.count)).contains { start in field.indices.allSatisfy { bytes[start + $0] == field[$0] } }
            return (end + 1, close)
        }
        guard let head else { return nil }
        unread.moveReaderIndex(forwardBy: head.length)
        return head.close
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: guestapi-floor SOCKET BODY\n".utf8))
    exit(2)
}
let (socket, body) = (arguments[1], arguments[2])
let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
// A socket left by an earlier run is replaced; anything else at the path is not touched.
var existing = stat()
if lstat(socket, &existing) == 0, existing.st_mode & S_IFMT == S_IFSOCK { unlink(socket) }
let server: Channel
do {
    server = try ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 4096)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(CannedAnswer(body: body)) }
        }
        .bind(unixDomainSocketPath: socket)
        .wait()
} catch {
    FileHandle.standardError.write(Data("guestapi-floor: cannot listen on \(socket): \(error)\n".utf8))
    exit(1)
}
signal(SIGTERM, SIG_IGN)
let stop = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .main)
stop.setEventHandler {
    server.close(promise: nil)
}
stop.resume()
DispatchQueue.global().async {
    try? server.closeFuture.wait()
    unlink(socket)
    exit(0)
}
dispatchMain()
