import NIOCore

/// Callers no instance owns that have sent nothing yet, held by the acceptor until they do (or
/// their request time is up), rather than given a channel on an event loop: a stranger that
/// connects and then sends its request, however many connections it makes, costs the loops
/// nothing. Once bytes come, it is answered, or, with only part of a request there, handed to
/// a loop to wait for the rest (polled here, it would poll readable again and again). They
/// are at most the unidentified callers' allowance (`ConnectionLimiter`), and polled beside
/// the listening socket.
///
/// Not Sendable: the acceptor's thread owns it.
struct WaitingStrangers {
    private var waiting: [CInt: (admission: Admission, deadline: NIODeadline)] = [:]
    /// Deadlines, oldest first (a caller's is its arrival plus the request time, so they come
    /// in order).
    private var deadlines = CircularBuffer<(socket: CInt, deadline: NIODeadline)>()

    var isEmpty: Bool { waiting.isEmpty }

    /// The sockets held, to poll.
    var sockets: Dictionary<CInt, (admission: Admission, deadline: NIODeadline)>.Keys { waiting.keys }

    /// When the next stranger's request time is up.
    var nextDeadline: NIODeadline? { deadlines.first?.deadline }

    /// Holds `socket` until bytes come, or `deadline`.
    mutating func add(_ socket: CInt, admission: Admission, deadline: NIODeadline) {
        waiting[socket] = (admission, deadline)
        deadlines.append((socket, deadline))
    }

    func admission(of socket: CInt) -> Admission? { waiting[socket]?.admission }

    /// Lets go of a socket (answered, handed to a loop, or its peer left).
    mutating func remove(_ socket: CInt) {
        waiting[socket] = nil
    }

    /// The sockets whose request time is up at `now`, let go of: the caller closes them.
    mutating func expired(at now: NIODeadline) -> [CInt] {
        var expired: [CInt] = []
        while let first = deadlines.first, first.deadline <= now {
            deadlines.removeFirst()
            // One let go of already (its number maybe reused since) has no entry, or a later one.
            guard let held = waiting[first.socket], held.deadline == first.deadline else { continue }
            waiting[first.socket] = nil
            expired.append(first.socket)
        }
        return expired
    }

    /// Every socket held, let go of (the daemon stops): the caller closes them.
    mutating func removeAll() -> [CInt] {
        defer {
            waiting.removeAll()
            deadlines.removeAll()
        }
        return Array(waiting.keys)
    }
}
