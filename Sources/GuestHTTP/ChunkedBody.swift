import ASCIINumbers
import NIOCore

/// A `chunked` request body (RFC 9112 section 7.1), decoded as its bytes arrive: chunk
/// sizes in hex with optional extensions, each chunk's data and its CRLF, a last chunk of
/// size 0, then trailer fields (read and dropped) up to an empty line. Plain value, no I/O.
struct ChunkedBody {
    enum Progress {
        case needMore
        /// The body, nil when it was empty.
        case complete(ByteBuffer?)
        case failure(RequestParser.Failure)
    }

    private enum Stage {
        case sizeLine
        case data(remaining: Int)
        case dataEnd
        case trailer
    }

    /// Longest chunk-size line taken (size, extensions, CRLF).
    private static let maxSizeLine = 1024

    private var stage = Stage.sizeLine
    private var body: ByteBuffer?
    private var bodyBytes = 0
    private var trailerBytes = 0

    mutating func read(_ buffer: inout ByteBuffer, limits: RequestParser.Limits) -> Progress {
        while true {
            switch stage {
            case .sizeLine:
                switch Self.takeLine(&buffer, max: Self.maxSizeLine) {
                case .needMore: return .needMore
                case .failure(let failure): return .failure(failure)
                case .line(let line):
                    let size = line.withUnsafeReadableBytes { Self.chunkSize($0, max: limits.maxBodyBytes - bodyBytes) }
                    switch size {
                    case .failure(let failure): return .failure(failure)
                    case .success(0): stage = .trailer
                    case .success(let size):
                        bodyBytes += size
                        stage = .data(remaining: size)
                    }
                }
            case .data(let remaining):
                let count = min(remaining, buffer.readableBytes)
                guard count > 0 else { return .needMore }
                var data = buffer.readSlice(length: count)!
                if body == nil { body = data } else { body!.writeBuffer(&data) }
                stage = count == remaining ? .dataEnd : .data(remaining: remaining - count)
            case .dataEnd:
                guard buffer.readableBytes >= 2 else { return .needMore }
                guard buffer.readInteger(as: UInt16.self) == UInt16(0x0D0A) else { return .failure(.malformed) }
                stage = .sizeLine
            case .trailer:
                switch Self.takeLine(&buffer, max: limits.maxHeadBytes - trailerBytes) {
                case .needMore: return .needMore
                case .failure(let failure): return .failure(failure)
                case .line(let line):
                    guard line.readableBytes > 2 else { return .complete(body) }
                    trailerBytes += line.readableBytes
                    let valid = line.withUnsafeReadableBytes { bytes in
                        var reader = ByteReader(bytes)
                        return reader.takeFieldLine() && reader.index == bytes.count
                    }
                    guard valid else { return .failure(.malformed) }
                }
            }
        }
    }

    private enum Line {
        case needMore
        /// The line with its CRLF.
        case line(ByteBuffer)
        case failure(RequestParser.Failure)
    }

    /// The next CRLF-ended line; a bare LF is malformed, a line longer than `max` too large.
    /// Only the first `max` bytes are searched, so the verdict does not depend on how the
    /// bytes arrive.
    private static func takeLine(_ buffer: inout ByteBuffer, max: Int) -> Line {
        let window = buffer.readableBytesView.prefix(max)
        guard let lf = window.firstIndex(of: UInt8(ascii: "\n")) else {
            return buffer.readableBytes > max ? .failure(.headTooLarge) : .needMore
        }
        let length = lf - buffer.readerIndex + 1
        guard length >= 2, buffer.getInteger(at: lf - 1, as: UInt8.self) == UInt8(ascii: "\r") else { return .failure(.malformed) }
        return .line(buffer.readSlice(length: length)!)
    }

    /// `1*HEXDIG [BWS ";" extensions] CRLF`; a size past `max` is too large.
    private static func chunkSize(_ line: UnsafeRawBufferPointer, max: Int) -> Result<Int, RequestParser.Failure> {
        var size = 0
        var index = 0
        while index < line.count, let digit = line[index].hexDigitValue {
            size = size * 16 + Int(digit)
            guard size <= max else { return .failure(.bodyTooLarge) }
            index += 1
        }
        guard index > 0 else { return .failure(.malformed) }
        while index < line.count, line[index] == UInt8(ascii: " ") || line[index] == UInt8(ascii: "\t") { index += 1 }
        if line[index] == UInt8(ascii: ";") {
            index += 1
            while index < line.count - 2, HTTPBytes.isFieldValueByte(line[index]) { index += 1 }
        }
        return index == line.count - 2 ? .success(size) : .failure(.malformed)
    }
}
