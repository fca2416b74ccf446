import Foundation
import GuestStore

/// Reading a file named on the command line, `-` for stdin.
enum Input {
    /// Its bytes, or a one-line error naming it and why (never a trap, as `readDataToEndOfFile` is).
    static func read(_ path: String, limit: Int? = nil) throws -> [UInt8] {
        do {
            let file = path == "-" ? FileHandle.standardInput : try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            guard let limit else { return Array(try file.readToEnd() ?? Data()) }
            let bytes = Array(try file.read(upToCount: limit + 1) ?? Data())
            if bytes.count > limit { throw StoreError.invalidArgument("\(path == "-" ? "stdin" : path) is larger than \(limit) bytes") }
            return bytes
        } catch let error as StoreError {
            throw error
        } catch {
            let reason = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? any Error).map {
                String(cString: strerror(Int32(($0 as NSError).code)))
            }
            throw StoreError.io("cannot read \(path == "-" ? "stdin" : path)" + (reason.map { ": \($0)" } ?? ""))
        }
    }
}
