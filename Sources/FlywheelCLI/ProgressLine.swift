import Foundation
import Synchronization

/// A progress line on standard error for work that takes over a second: silent before that,
/// then rewritten in place at most twice a second on a terminal (a plain line elsewhere).
final class ProgressLine: Sendable {
    private struct State {
        var lastDraw: Date?
        var drawn = false
    }
    private let label: String
    private let start = Date()
    private let state = Mutex(State())
    private let terminal = isatty(STDERR_FILENO) != 0

    init(label: String) { self.label = label }

    func update(_ text: String) {
        let now = Date()
        guard now.timeIntervalSince(start) >= 1 else { return }
        let draw = state.withLock { s -> Bool in
            if let last = s.lastDraw, now.timeIntervalSince(last) < 0.5 { return false }
            s.lastDraw = now
            s.drawn = true
            return true
        }
        guard draw else { return }
        let line = "\(label) \(text) (\(String(format: "%.0f", now.timeIntervalSince(start)))s)"
        FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    /// Ends the line so later output starts on a fresh one.
    func finish() {
        if terminal, state.withLock({ $0.drawn }) { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n)
        var i = 0
        while v >= 1024, i < units.count - 1 {
            v /= 1024
            i += 1
        }
        return i == 0 ? "\(n) B" : String(format: "%.1f ", v) + units[i]
    }
}
