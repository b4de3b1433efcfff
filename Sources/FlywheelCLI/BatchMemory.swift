#if canImport(Glibc)
import Glibc
#endif

/// Heap settings for the commands that read a whole data set, work on it and exit (`drift`,
/// `predict`, `train`, `data …`).
///
/// glibc's malloc returns freed memory at the top of a heap to the kernel once more than 128 KiB
/// is free there, and serves blocks over its (adaptive) mmap threshold with fresh mappings. Such a
/// command frees and allocates the same large buffers over and over (two sort buffers per numeric
/// column in `drift`), so every reuse faulted the pages in again: 237,000 page faults and 0.8 s of
/// kernel time for a 1M-row `drift`. Keeping freed memory (up to 1 GiB at the top of a heap) and
/// serving blocks up to 32 MiB from the heap halves the faults (0.45 s of kernel time). The
/// process exits soon, so nothing is held for long; the server does not call this.
enum BatchMemory {
    /// `mallopt`'s parameter numbers in glibc's malloc.h.
    private static let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3

    static func prepare() {
        #if os(Linux)
        // malloc.h is not part of Swift's Glibc module: look the function up.
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }  // RTLD_DEFAULT
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        _ = mallopt(trimThreshold, 1 << 30)
        _ = mallopt(mmapThreshold, 32 << 20)
        #endif
    }
}
