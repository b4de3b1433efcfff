import FlywheelCore
import FlywheelData
import FlywheelLearn
import Foundation
import Yams

/// Every component a pipeline may `use`.
public enum BuiltInComponents {
    public static let all: [any Component] = [
        LoadComponent(), ValidateComponent(), ProfileComponent(), SplitComponent(), TrainComponent(), TuneComponent(),
        EvaluateComponent(), GateComponent(), RegisterComponent(), PromoteComponent(), BatchPredictComponent(),
    ]
}

/// Reading and writing the tables that flow between steps (always CSV inside a pipeline).
enum StepTables {
    static func read(_ url: URL, jsonLines: Bool = false) throws -> Table {
        jsonLines ? try JSONLines.read(contentsOf: url) : try CSVReader().read(contentsOf: url)
    }

    static func write(_ table: Table, _ name: String, in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try CSVWriter.write(table, to: url)
        return url
    }

    static func writeJSON(_ value: some Encodable, _ name: String, in dir: URL) throws -> URL {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        let url = dir.appendingPathComponent(name)
        try enc.encode(value).write(to: url, options: .atomic)
        return url
    }

    static func readMetrics(_ url: URL, input: String) throws -> [String: Double] {
        guard let v = try? JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url)), case .object(let o) = v else {
            throw FlywheelError.invalidArgument("input '\(input)' is not a JSON object of metrics")
        }
        return o.compactMapValues { if case .number(let d) = $0 { d } else { nil } }
    }

    static func bundle(_ url: URL) throws -> ModelBundle { try ModelBundle.load(contentsOf: url) }
}

/// Reads a schema file (YAML) as `flywheel data infer-schema` writes it.
public enum SchemaYAML {
    public static func load(_ url: URL) throws -> Schema {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw FlywheelError.notFound("cannot read schema '\(url.path)': no such file or not readable")
        }
        return try parse(text, name: url.lastPathComponent)
    }

    public static func parse(_ text: String, name: String) throws -> Schema {
        let schema: Schema
        do { schema = try YAMLDecoder().decode(Schema.self, from: text) } catch let e as DecodingError {
            throw FlywheelError.invalidArgument("schema '\(name)': \(describe(e))")
        } catch {
            throw FlywheelError.invalidArgument("schema '\(name)' is not valid YAML: \(error)")
        }
        try schema.check()
        return schema
    }

    /// A decoding error as the path to the field and what was wrong.
    public static func describe(_ e: DecodingError) -> String {
        func path(_ ctx: DecodingError.Context) -> String {
            ctx.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch e {
        case .keyNotFound(let key, let ctx): return "\(path(ctx)).\(key.stringValue) is required".trimmingCharacters(in: CharacterSet(charactersIn: "."))
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx):
            return "\(path(ctx)): \(ctx.debugDescription)"
        @unknown default: return "\(e)"
        }
    }
}
