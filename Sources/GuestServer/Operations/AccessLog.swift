import GuestHTTP
import Logging

/// The access log: one debug line a request answered, from the connection handler or (for a
/// stranger) the acceptor, in the same words.
enum AccessLog {
    static func request(_ request: GuestRequest?, status: Int, instance: String?, bytes: Int, seconds: Double, logger: Logger) {
        logger.debug(
            "request",
            metadata: [
                "method": "\(request?.method.rawValue ?? "-")", "path": "\(request.map { String($0.path) } ?? "-")",
                "status": .stringConvertible(status),
                "instance": "\(instance ?? "none")", "bytes": .stringConvertible(bytes), "us": .stringConvertible(Int(seconds * 1e6)),
            ])
    }
}
