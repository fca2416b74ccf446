import Foundation
import GuestStore
import NIOCore
import Testing

@testable import GuestServer

/// `ResolutionMemo` on real connections: socket pairs whose peer is this test process, named
/// by its pidfd's inode as the acceptor names a caller.
@Suite("resolution memo", .enabled(if: HostFacts().pidfsInodes, "the kernel's pidfds have no inodes of their own (Linux 6.9)"))
struct ResolutionMemoTests {
    static let host = HostFacts()
    static let match = Resolution.Outcome.matched(IdentityMatch(instanceID: 7, createdNanoseconds: 1, attachCount: 1))
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    /// A connection from this process, open while the value lives.
    final class Connection {
        let ends: [CInt]
        init() throws {
            var ends: [CInt] = [-1, -1]
            try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &ends) == 0)
            self.ends = ends
        }
        deinit { ends.forEach { close($0) } }

        /// A caller on it, as accepted: not yet resolved.
        func caller() throws -> Resolution {
            Resolution(peer: try #require(PeerProcess.read(socket: ends[0], host: ResolutionMemoTests.host)))
        }
    }

    /// What the acceptor does for a caller the memo did not know: the rules decide (here, as
    /// given), and the outcome is kept.
    static func resolve(
        _ memo: inout ResolutionMemo, _ connection: Connection, to outcome: Resolution.Outcome,
        revision: Int, at now: NIODeadline
    ) throws {
        var resolution = try connection.caller()
        try #require(memo.recall(&resolution, revision: revision, now: now) == nil)
        try #require(resolution.process != nil)
        // The start time the rules would have proved the caller's.
        _ = resolution.recalled(outcome, rule: "ancestry", startTime: 42)
        memo.remember(resolution, outcome: outcome, now: now)
    }

    @Test func theSameProcessIsRememberedWithinASecondOfOneRevision() throws {
        var memo = ResolutionMemo()
        try Self.resolve(&memo, try Connection(), to: Self.match, revision: 3, at: Self.start)

        let connection = try Connection()
        var again = try connection.caller()
        #expect(memo.recall(&again, revision: 3, now: Self.start + .milliseconds(999)) == Self.match)
        #expect(again.remembered && again.rule == "ancestry" && again.peer.startTime == 42)
    }

    @Test func aSecondLaterItIsResolvedAgain() throws {
        var memo = ResolutionMemo()
        try Self.resolve(&memo, try Connection(), to: Self.match, revision: 3, at: Self.start)

        let connection = try Connection()
        var later = try connection.caller()
        #expect(memo.recall(&later, revision: 3, now: Self.start + ResolutionMemo.lifetime) == nil)
        #expect(later.process != nil && !later.remembered, "looked for, and not found")
    }

    @Test func anyCommitForgetsEveryProcess() throws {
        var memo = ResolutionMemo()
        try Self.resolve(&memo, try Connection(), to: Self.match, revision: 3, at: Self.start)

        let connection = try Connection()
        var next = try connection.caller()
        #expect(memo.recall(&next, revision: 4, now: Self.start) == nil)
        #expect(next.process != nil && memo.count == 0)
    }

    @Test func onlyAnswersAboutTheProcessAreKept() throws {
        var memo = ResolutionMemo()
        let connection = try Connection()
        for outcome in [Resolution.Outcome.unavailable, .failed("disk I/O error")] {
            try Self.resolve(&memo, connection, to: outcome, revision: 3, at: Self.start)
        }
        #expect(memo.count == 0)
        try Self.resolve(&memo, connection, to: .unmatched, revision: 3, at: Self.start)
        let another = try Connection()
        var again = try another.caller()
        #expect(memo.recall(&again, revision: 3, now: Self.start) == .unmatched)
    }

    @Test func aCallerWhoseRulesDidNotProveItRunningIsNotKept() throws {
        var memo = ResolutionMemo()
        let connection = try Connection()
        var resolution = try connection.caller()
        #expect(memo.recall(&resolution, revision: 3, now: Self.start) == nil)
        // The peer was gone by the end of the rules: its proof is still the connection.
        memo.remember(resolution, outcome: .unmatched, now: Self.start)
        #expect(memo.count == 0)
    }

    @Test func aFullMemoStartsAfresh() throws {
        var memo = ResolutionMemo(capacity: 2)
        let connection = try Connection()
        // Other processes, by inode numbers of their own: this test has one process only.
        for inode: UInt64 in [1, 2, 3] {
            var resolution = try connection.caller()
            resolution.process = inode
            _ = resolution.recalled(.unmatched, rule: nil, startTime: 42)
            memo.remember(resolution, outcome: .unmatched, now: Self.start)
            #expect(memo.count == (inode == 3 ? 1 : Int(inode)), "after process \(inode)")
        }
    }
}
