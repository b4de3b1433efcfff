import FlywheelCore
import FlywheelRegistry
import FlywheelStore
import Foundation
import Yams

/// The composition root: finds the workspace folder, reads its configuration once and opens the
/// configured backends. Only this module knows which backend is in use.
public struct Workspace: Sendable {
    /// The folder that holds `.flywheel/`.
    public let root: URL
    public let configuration: WorkspaceConfiguration
    public let store: any MetadataStore
    public let blobs: any BlobStore

    public var tracking: TrackingService { TrackingService(store: store, blobs: blobs) }
    public var registry: ModelRegistry { ModelRegistry(store: store, blobs: blobs) }
    public var lineage: LineageService { LineageService(store: store, registry: registry) }

    public static let folderName = ".flywheel"

    static func dotFolder(_ root: URL) -> URL { root.appendingPathComponent(folderName) }

    /// Finds the workspace: `explicit` (a flag or FLYWHEEL_WORKSPACE) if given, else the nearest
    /// folder at or above `start` that holds `.flywheel/`.
    public static func locate(explicit: String?, from start: URL) throws -> URL {
        if let explicit, !explicit.isEmpty {
            let url = URL(fileURLWithPath: explicit, relativeTo: start).standardizedFileURL
            let base = url.lastPathComponent == folderName ? url.deletingLastPathComponent() : url
            guard FileManager.default.fileExists(atPath: dotFolder(base).path) else {
                throw FlywheelError.notFound(
                    "'\(base.path)' is not a Flywheel workspace (no \(folderName)/ folder): run 'flywheel init \(explicit)' first")
            }
            return base
        }
        var dir = start.standardizedFileURL
        while true {
            if FileManager.default.fileExists(atPath: dotFolder(dir).path) { return dir }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        throw FlywheelError.notFound(
            "no Flywheel workspace here or in any parent folder of '\(start.path)': run 'flywheel init' "
                + "or pass --workspace PATH (or set FLYWHEEL_WORKSPACE)")
    }

    /// Creates `.flywheel/` under `root` with a default configuration. Returns false when one
    /// existed already (it is left as it was).
    @discardableResult
    public static func initialize(at root: URL) throws -> Bool {
        let dot = dotFolder(root)
        let existed = FileManager.default.fileExists(atPath: dot.path)
        do {
            try FileManager.default.createDirectory(at: dot, withIntermediateDirectories: true)
        } catch {
            throw FlywheelError.invalidArgument("cannot create '\(dot.path)': \(error.localizedDescription)")
        }
        let config = dot.appendingPathComponent("config.yaml")
        if !FileManager.default.fileExists(atPath: config.path) {
            try WorkspaceConfiguration.defaultText.write(to: config, atomically: true, encoding: .utf8)
        }
        _ = try open(root)
        return !existed
    }

    /// Opens the backends the workspace's configuration names.
    public static func open(_ root: URL) throws -> Workspace {
        let dot = dotFolder(root)
        let config = try WorkspaceConfiguration.load(from: dot.appendingPathComponent("config.yaml"))
        let store: any MetadataStore
        switch config.metadata {
        case .sqlite(let path):
            store = try SQLiteMetadataStore(path: URL(fileURLWithPath: path, relativeTo: dot).path)
        }
        let blobs: any BlobStore
        switch config.artifacts {
        case .local(let path):
            blobs = try FileBlobStore(root: URL(fileURLWithPath: path, relativeTo: dot).standardizedFileURL)
        }
        return Workspace(root: root, configuration: config, store: store, blobs: blobs)
    }
}

/// `.flywheel/config.yaml`, read once by the CLI.
public struct WorkspaceConfiguration: Sendable, Equatable {
    public enum Metadata: Sendable, Equatable {
        /// A SQLite file, relative to `.flywheel/`.
        case sqlite(String)
    }
    public enum Artifacts: Sendable, Equatable {
        /// A folder, relative to `.flywheel/`.
        case local(String)
    }
    public var metadata: Metadata = .sqlite("flywheel.db")
    public var artifacts: Artifacts = .local("artifacts")

    static let defaultText = """
        # Flywheel workspace configuration.
        # metadata: where runs, models and lineage are recorded.
        #   sqlite:flywheel.db  (a file relative to this folder; the embedded default)
        # artifacts: where files are stored by digest.
        #   local:artifacts     (a folder relative to this folder; the embedded default)
        metadata: sqlite:flywheel.db
        artifacts: local:artifacts

        """

    public static func load(from url: URL) throws -> WorkspaceConfiguration {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return WorkspaceConfiguration() }
        return try parse(text, file: url.path)
    }

    public static func parse(_ text: String, file: String) throws -> WorkspaceConfiguration {
        let node: Any?
        do { node = try Yams.load(yaml: text) } catch let e as YamlError {
            throw FlywheelError.invalidArgument("\(file): not valid YAML: \(e)")
        }
        var config = WorkspaceConfiguration()
        guard let node else { return config }
        guard let map = node as? [String: Any] else {
            throw FlywheelError.invalidArgument("\(file): expected a mapping with keys 'metadata' and 'artifacts'")
        }
        for (key, value) in map {
            guard let s = value as? String else {
                throw FlywheelError.invalidArgument("\(file): '\(key)' must be a string such as 'sqlite:flywheel.db'")
            }
            switch key {
            case "metadata":
                if s.hasPrefix("sqlite:") {
                    config.metadata = .sqlite(String(s.dropFirst("sqlite:".count)))
                } else if s.hasPrefix("postgres://") || s.hasPrefix("postgresql://") {
                    throw FlywheelError.unsupported(
                        "\(file): metadata '\(s.split(separator: "@").last.map(String.init) ?? "postgres")' needs the PostgreSQL backend, which this build does not include yet; use 'sqlite:flywheel.db'")
                } else {
                    throw FlywheelError.invalidArgument("\(file): metadata '\(s)' is not valid: expected 'sqlite:PATH'")
                }
            case "artifacts":
                if s.hasPrefix("local:") {
                    config.artifacts = .local(String(s.dropFirst("local:".count)))
                } else if s.hasPrefix("s3://") {
                    throw FlywheelError.unsupported(
                        "\(file): artifacts '\(s)' need the S3 backend, which this build does not include yet; use 'local:artifacts'")
                } else {
                    throw FlywheelError.invalidArgument("\(file): artifacts '\(s)' is not valid: expected 'local:PATH'")
                }
            default:
                throw FlywheelError.invalidArgument("\(file): unknown key '\(key)': expected 'metadata' or 'artifacts'")
            }
        }
        return config
    }
}
