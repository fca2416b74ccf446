/// Finds where a request head ends in the raw byte stream, so that its size is bounded
/// exactly (SPEC.md section 6: 16 KiB), whatever part of it is long: the request line, one
/// header, or many small ones. The HTTP decoder's own limits count only header names and
/// values, so a head of thousands of empty headers or a long request line would pass them.
///
/// A head ends at its first empty line (CRLF CRLF, or bare LF LF, which parsers tolerate);
/// empty lines before the request line are skipped, as the parser skips them, but counted.
/// Plain value, no I/O: fed bytes as they arrive.
struct HeadScanner {
    enum Result: Equatable {
        /// No end yet, and the head is still within the limit.
        case needMore
        /// The head ended after `consumed` bytes of the last input.
        case complete(consumed: Int)
        /// More than `limit` bytes came without the head ending.
        case tooLarge
    }

    let limit: Int
    /// Bytes of the head seen so far.
    private(set) var count = 0
    /// A line other than an empty one has been seen: the next empty line ends the head.
    private var inHead = false
    /// Bytes on the current line, a CR aside.
    private var lineLength = 0

    init(limit: Int) { self.limit = limit }

    mutating func scan(_ bytes: some Sequence<UInt8>) -> Result {
        var consumed = 0
        for byte in bytes {
            consumed += 1
            count += 1
            if count > limit { return .tooLarge }
            if byte == UInt8(ascii: "\n") {
                if lineLength == 0 && inHead { return .complete(consumed: consumed) }
                inHead = inHead || lineLength > 0
                lineLength = 0
            } else if byte != UInt8(ascii: "\r") {
                lineLength += 1
            }
        }
        return .needMore
    }
}
