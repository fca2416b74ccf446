import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Every connection is a file descriptor: raise the soft limit to the hard one at start.
enum FileDescriptorLimit {
    static func raise(logger: Logger, wanted: rlim_t = 1 << 20) {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return }
        let target = min(wanted, limit.rlim_max)
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { limit = raised }
        }
        if limit.rlim_cur < 16_384 {
            logger.warning(
                """
                file descriptor limit is \(limit.rlim_cur) and cannot be raised (hard limit \(limit.rlim_max)); \
                connections beyond it will be refused
                """
            )
        } else {
            logger.debug("file descriptor limit \(limit.rlim_cur)")
        }
    }

    private static var RLIMIT_NOFILE_VALUE: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
}
