#if canImport(Glibc)
import Glibc
#endif

// libFuzzer's own main is not the program's (SwiftPM gives an executable Swift's): this one
// hands the command line to libFuzzer's driver, with the harness as the callback.
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The name libFuzzer's runtime links against; the driver below is given the same function.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt { fuzz(data, count) }

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runDriver(&argc, &argv) { data, count in testOneInput(data, count) })
