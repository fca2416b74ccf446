/// What the acceptor found about a caller: what the loop needs to serve its connection.
struct Admission: Sendable {
    /// nil when the peer could not be read at all.
    var peer: PeerProcess?
    var outcome: Resolution.Outcome
    /// Bytes of the first request had arrived when the caller was handed to its loop: it
    /// will be read at once, so no clock is armed for it until it proves partial.
    var requestArrived = false
}
