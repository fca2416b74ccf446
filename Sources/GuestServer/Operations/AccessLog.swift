import GuestHTTP
import Logging

/// The access log: one debug line a request answered, from the connection handler or (for a
/// stranger) the acceptor, in the same words. A minted identity token adds its audience and
/// id, never the token.
enum AccessLog {
    static func request(
        _ request: GuestRequest?, status: Int, instance: String?, bytes: Int, seconds: Double,
        minted: (audience: String, jti: String)? = nil, logger: Logger
    ) {
        var metadata: Logger.Metadata = [
            "method": "\(request?.method.rawValue ?? "-")", "path": "\(request.map { String($0.path) } ?? "-")",
            "status": .stringConvertible(status),
            "instance": "\(instance ?? "none")", "bytes": .stringConvertible(bytes), "us": .stringConvertible(Int(seconds * 1e6)),
        ]
        if let minted {
            metadata["audience"] = "\(minted.audience)"
            metadata["jti"] = "\(minted.jti)"
        }
        logger.debug("request", metadata: metadata)
    }
}
