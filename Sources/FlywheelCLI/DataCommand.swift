import ArgumentParser
import FlywheelCore
import FlywheelData
import Foundation

struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Profile a dataset, infer its schema, validate it against a schema.",
        discussion: "FILE is CSV (header required) or JSON Lines (.jsonl, .ndjson). No workspace is needed.",
        subcommands: [Profile.self, InferSchema.self, Validate.self])
}

/// Reads CSV or JSON Lines by the file's extension.
enum DataFile {
    static func isJSONLines(_ path: String) -> Bool {
        let ext = (path as NSString).pathExtension.lowercased()
        return ext == "jsonl" || ext == "ndjson"
    }

    static func url(_ path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw FlywheelError.notFound("cannot read '\(path)': no such file or not readable")
        }
        if path.hasSuffix(".gz") {
            throw FlywheelError.unsupported("'\(path)' is gzip-compressed: decompress it first (gunzip -k \(path))")
        }
        return url
    }

    static func read(_ path: String) throws -> Table {
        let u = try url(path)
        return isJSONLines(path) ? try JSONLines.read(contentsOf: u) : try CSVReader().read(contentsOf: u)
    }
}
