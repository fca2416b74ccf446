import Foundation
import Testing

@Suite(.timeLimit(.minutes(3))) struct SmokeTests {
    @Test func guestReadsItsKey() throws {
        let state = try TemporaryState()
        let guest = try GuestProcess()
        try Command(
            Binaries.admin, ["instance", "create", "c1", "--pid", String(guest.shellPID), "--config", "user.foo=bar"] + state.arguments
        ).run().requireSuccess()
        let daemon = try Daemon(state: state)
        let response = try #require(HTTPResponse(try guest.curl(daemon.socket, "/1.0/config/user.foo").stdout))
        #expect(response.status == 200)
        #expect(response.text == "bar")
    }
}
