import FlywheelCore
import Foundation
import Logging

/// The server's log handler: one line per message on standard error,
/// `2026-12-07 23:45:00 info flywheel.server: message key=value`.
///
/// Unlike swift-log's `StreamLogHandler`, setting metadata stores it and nothing else: the
/// stream handler formats all of a logger's metadata each time a key is set, and Hummingbird sets
/// the request id on every request's logger, so every request paid for a string that is only
/// needed when something is logged (about 4% of the server's CPU per `log_metric`, measured with
/// perf). Here the metadata is formatted when a line is written.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String,
        function: String, line: UInt
    ) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit { all.merge(explicit) { _, new in new } }
        var text = "\(SystemWallClock().now().readable) \(level) \(label): \(message)"
        for (k, v) in all.sorted(by: { $0.key < $1.key }) { text += " \(k)=\(v)" }
        text += "\n"
        // One write per line, so lines from several threads do not interleave.
        text.utf8CString.withUnsafeBufferPointer { buffer in
            _ = Foundation.write(FileHandle.standardError.fileDescriptor, buffer.baseAddress, buffer.count - 1)
        }
    }
}
