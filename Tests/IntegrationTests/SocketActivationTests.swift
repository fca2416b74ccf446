import Foundation
import Testing

/// What socket activation passes is checked before it is served (README, "Install on a
/// host"): a descriptor that is not a listening Unix stream socket, not open, or a count that
/// is none, is refused at start in one line. (A pipe made the released daemon retry every
/// 10 ms for ever; a descriptor number the daemon itself had reused was "served".)
@Suite(.timeLimit(.minutes(2)))
struct SocketActivationTests {
    /// Python makes descriptor 3 as `setup` says, then becomes guestapid (same pid, so
    /// LISTEN_PID names it), with `LISTEN_FDS` and `LISTEN_FDNAMES` as given.
    static let launcher = #"""
        import os, socket, sys
        setup, fds, names, daemon, state = sys.argv[1:6]
        keep = None
        if setup == "pipe":
            keep = os.pipe()[0]
        elif setup == "file":
            keep = os.open("/dev/null", os.O_RDONLY)
        elif setup == "datagram":
            keep = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).detach()
        elif setup == "unlistened":
            keep = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).detach()
        elif setup == "tcp":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.bind(("127.0.0.1", 0)); s.listen(); keep = s.detach()
        if keep is not None and keep != 3:
            os.dup2(keep, 3); os.close(keep)
        if keep is None:
            try: os.close(3)
            except OSError: pass
        else:
            os.set_inheritable(3, True)
        env = dict(os.environ, LISTEN_PID=str(os.getpid()), LISTEN_FDS=fds)
        if names: env["LISTEN_FDNAMES"] = names
        os.execve(daemon, [daemon, "--state-dir", state], env)
        """#

    @Test(arguments: [
        ("pipe", "1", "", "descriptor 3 (guest) is not a socket"),
        ("file", "1", "", "descriptor 3 (guest) is not a socket"),
        ("none", "1", "", "descriptor 3 (guest) is not open"),
        ("datagram", "1", "", "descriptor 3 (guest) is not a stream socket"),
        ("unlistened", "1", "", "descriptor 3 (guest) is not listening"),
        ("tcp", "1", "", "descriptor 3 (guest) is not a Unix socket"),
        ("pipe", "abc", "", "LISTEN_FDS=abc is not a count of descriptors from 1 to 1024"),
        ("pipe", "0", "", "LISTEN_FDS=0 is not a count of descriptors from 1 to 1024"),
        ("pipe", "2", "admin:other", "none of the 2 descriptors passed is named guest (FileDescriptorName=guest)"),
    ])
    func whatIsNotAListeningUnixSocketIsRefused(setup: String, fds: String, names: String, problem: String) throws {
        let state = try TemporaryState()
        let result = try Command("/usr/bin/python3", ["-c", Self.launcher, setup, fds, names, Binaries.daemon, state.directory])
            .run(timeout: .seconds(20))
        #expect(result.status == 1, "\(result.stdoutText) \(result.stderr)")
        #expect(result.stderr == "guestapid: socket activation: \(problem)\n")
        #expect(!result.stdoutText.contains("serving"))
    }
}
