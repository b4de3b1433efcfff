import FlywheelCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a command ended.
public struct CommandOutcome: Sendable, Hashable {
    /// The exit status, or 128 + the signal that ended it.
    public var exitCode: Int
    public var timedOut: Bool
    public var cancelled: Bool
}

/// Runs `/bin/sh -c COMMAND` in its own process group, streaming its combined output line by
/// line, and stops the whole group on a timeout or when the calling task is cancelled.
///
/// Foundation's `Process` cannot start a child in a new process group, and killing only the
/// shell would leave its children running; this uses `posix_spawn` with `POSIX_SPAWN_SETPGROUP`.
public enum CommandRunner {
    /// Seconds between SIGTERM and SIGKILL when stopping a group.
    static let grace: Double = 2
    static let spawnLock = NSLock()

    public static func run(
        _ command: String, in directory: URL, environment: [String: String], timeout: Double?,
        log: URL, onLine: @escaping @Sendable (String) -> Void
    ) async throws -> CommandOutcome {
        // glibc's posix_spawn_file_actions_addchdir_np is not visible to Swift here, so the shell
        // changes directory itself before the command (in the same shell, so nothing else changes).
        let argv = ["/bin/sh", "-c", "cd \(PathRenderer.quote(directory.path)) || exit 125\n" + command]
        let envp = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        let (pid, readEnd) = try spawnLock.withLock { try spawn(argv, envp) }
        let stopper = GroupStopper(pid: pid)

        // The reader and the waiter block, so each gets a thread of its own: on Dispatch's bounded
        // pool, many running commands could starve their own readers.
        async let drained: Void = OwnThread.run {
            readLines(readEnd, log: logHandle, onLine: onLine)
            close(readEnd)
        }
        let status: Int32 = try await withTaskCancellationHandler {
            let timer = timeout.map { seconds in
                Task.detached {
                    try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                    if !Task.isCancelled { stopper.stop(timedOut: true) }
                }
            }
            defer { timer?.cancel() }
            return try await OwnThread.run {
                var s: Int32 = 0
                while waitpid(pid, &s, 0) < 0 && errno == EINTR {}
                return s
            }
        } onCancel: {
            stopper.stop(timedOut: false)
        }
        // Whatever the shell left running in its group ends with the step.
        kill(-pid, SIGKILL)
        try await drained
        try? logHandle.close()
        let signal = status & 0x7f
        let code = signal == 0 ? Int((status >> 8) & 0xff) : 128 + Int(signal)
        return CommandOutcome(exitCode: code, timedOut: stopper.timedOut, cancelled: stopper.cancelled)
    }

    /// Starts the shell with stdout and stderr on a new pipe; returns its pid and the pipe's read end.
    /// Pipes are made close-on-exec and spawned under one lock, so a step started at the same
    /// time never inherits this one's pipe (its reader would then wait for that other step).
    static func spawn(_ argv: [String], _ envp: [String]) throws -> (pid_t, Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw FlywheelError.internal("pipe() failed: \(String(cString: strerror(errno)))") }
        let readEnd = fds[0], writeEnd = fds[1]
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        _ = inheritedDescriptorsClosed

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Signals the CLI ignores or handles go back to their defaults in the step (a handled one
        // resets at exec by itself; an ignored one would not).
        var reset = sigset_t(), none = sigset_t()
        sigemptyset(&reset)
        for sig in [SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2] { sigaddset(&reset, sig) }
        sigemptyset(&none)
        posix_spawnattr_setsigdefault(&attributes, &reset)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var pid: pid_t = 0
        let spawned = withCStrings(argv) { a in
            withCStrings(envp) { e in posix_spawn(&pid, "/bin/sh", &actions, &attributes, a, e) }
        }
        close(writeEnd)
        guard spawned == 0 else {
            close(readEnd)
            throw FlywheelError.internal("could not start /bin/sh: \(String(cString: strerror(spawned)))")
        }
        return (pid, readEnd)
    }

    /// Done once, before the first spawn.
    static let inheritedDescriptorsClosed: Void = closeInheritedDescriptorsOnExec()

    /// Marks every descriptor above stderr close-on-exec: whatever this process inherited (a
    /// caller's pipes) must not leak into steps, or an orphaned step would hold the caller's
    /// pipe open after Flywheel is gone. (Flywheel's own descriptors are opened close-on-exec.)
    static func closeInheritedDescriptorsOnExec() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for e in entries {
            guard let fd = Int32(e), fd > 2 else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// Reads the pipe to its end, writing everything to the log and each line to `onLine`.
    static func readLines(_ fd: Int32, log: FileHandle, onLine: (String) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var pending: [UInt8] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            let chunk = buffer[0..<n]
            log.write(Data(chunk))
            pending.append(contentsOf: chunk)
            while let nl = pending.firstIndex(of: 10) {
                onLine(String(decoding: pending[..<nl], as: UTF8.self))
                pending.removeSubrange(...nl)
            }
            // A very long line without a newline is shown in pieces rather than held.
            if pending.count > 16384 {
                onLine(String(decoding: pending, as: UTF8.self))
                pending.removeAll()
            }
        }
        if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }  // invariant: a non-empty array has a base address
    }
}

/// Stops a process group once: SIGTERM, then SIGKILL after a grace period.
final class GroupStopper: @unchecked Sendable {
    let pid: pid_t
    private let lock = NSLock()
    private var stopping = false
    private(set) var timedOut = false
    private(set) var cancelled = false

    init(pid: pid_t) { self.pid = pid }

    func stop(timedOut t: Bool) {
        lock.lock()
        defer { lock.unlock() }
        guard !stopping else { return }
        stopping = true
        if t { timedOut = true } else { cancelled = true }
        kill(-pid, SIGTERM)
        let pid = self.pid
        DispatchQueue.global().asyncAfter(deadline: .now() + CommandRunner.grace) { kill(-pid, SIGKILL) }
    }
}

/// Runs blocking work on a new thread (not a pool's), resuming the caller when it is done.
enum OwnThread {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let t = Thread { continuation.resume(with: Result { try body() }) }
            t.stackSize = 256 * 1024
            t.start()
        }
    }
}
