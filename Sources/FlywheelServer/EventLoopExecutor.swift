import CFlywheelHooks
import NIOCore
import NIOPosix

/// Makes NIO's event loops (`MultiThreadedEventLoopGroup.singleton`) Swift concurrency's global
/// executor, so that a request's handler runs on the loop that read the request instead of hopping
/// to the cooperative pool and back: two thread switches per request, the largest cost of a small
/// prediction.
///
/// NIO offers this (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`),
/// but finds the runtime's hook with `dlsym`, which fails when the Swift runtime is linked into the
/// executable (`--static-swift-stdlib`, how `scripts/build-release.sh` builds): the symbol is not
/// exported. Here the linker resolves it (`CFlywheelHooks`), so it works with either kind of build.
enum EventLoopExecutor {
    /// The runtime's hook: called with each job for the global executor, and the runtime's own
    /// enqueue function (unused: every job goes to an event loop).
    private typealias Hook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Installs the hook unless one is already set; true when this call installed it. Call it
    /// once, on the main thread, before other concurrency work.
    static func install() -> Bool {
        // The hook's type is the runtime's, not a stable interface: like NIO, only for the
        // compilers whose runtime is known to call it so.
        #if compiler(<6.6)
        let hook: Hook = { job, _ in
            // `any()` is the current loop when called on one of the group's threads: no thread switch.
            MultiThreadedEventLoopGroup.singleton.any().enqueue(ExecutorJob(job))
        }
        // A thin function is one code pointer, the runtime's own representation of the hook.
        return flywheel_install_enqueue_global_hook(unsafeBitCast(hook, to: UnsafeMutableRawPointer.self))
        #else
        return false
        #endif
    }

    /// Whether a job for the global executor runs on one of the event loops now: a detached task
    /// looks at the thread it runs on, so this holds only if the runtime really calls the hook.
    static func jobsRunOnEventLoops() async -> Bool {
        await Task.detached { MultiThreadedEventLoopGroup.currentEventLoop != nil }.value
    }
}
