import FlywheelCore
import FlywheelData
import Foundation

/// One input field of a model's signature.
public struct SignatureField: Hashable, Codable, Sendable {
    public var name: String
    public var type: ColumnType
    /// Training categories, for categorical fields.
    public var categories: [String]?
    /// Whether training data had missing values here.
    public var nullable: Bool
}

/// The portable model file: everything needed to predict exactly as at training time.
///
/// Format (docs/model-bundle.md): a JSON object with sorted keys and no timestamps, so the same
/// data and seed give a byte-identical file. `format` is "flywheel.model" and `format_version`
/// the integer this reader understands.
public struct ModelBundle: Hashable, Codable, Sendable {
    public static let formatName = "flywheel.model"
    public static let currentVersion = 1

    public struct Metadata: Hashable, Codable, Sendable {
        public var flywheelVersion: String
        public var seed: UInt64
        /// SHA-256 of the training file, when trained from one.
        public var trainingDataDigest: String?
        public var trainingRows: Int
        public var hyperparameters: [String: String]
        /// Evaluation on held-out data (and cross-validation means, prefixed `cv_`).
        public var metrics: [String: Double]
    }

    public var format: String
    public var formatVersion: Int
    public var task: LearningTask
    /// The user-facing model name (`random_forest`).
    public var modelName: String
    public var target: String
    public var signature: [SignatureField]
    public var preprocessor: Preprocessor
    public var model: FittedModel
    /// Class labels in the order of the model's probability columns.
    public var classes: [String]?
    /// Profile of the training rows (features and target): the drift reference.
    public var profile: Profile
    public var metadata: Metadata

    enum CodingKeys: String, CodingKey {
        case format, task, target, signature, preprocessor, model, classes, profile, metadata
        case formatVersion = "format_version"
        case modelName = "model_name"
    }

    /// The file's bytes: JSON with sorted keys, deterministic for the same inputs.
    public func encoded() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try enc.encode(self)
    }

    /// Reads a bundle, checking that it is one and of a version this build reads.
    public static func decode(_ data: Data, source: String = "model file") throws -> ModelBundle {
        struct Header: Decodable {
            var format: String?
            var format_version: Int?
        }
        guard let header = try? JSONDecoder().decode(Header.self, from: data), header.format == formatName else {
            throw FlywheelError.invalidArgument("\(source) is not a Flywheel model bundle (expected a JSON object with format \"\(formatName)\")")
        }
        guard let v = header.format_version, v <= currentVersion else {
            throw FlywheelError.unsupported(
                "\(source) is model format version \(header.format_version ?? 0); this build of Flywheel reads up to \(currentVersion): upgrade Flywheel")
        }
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do { return try dec.decode(ModelBundle.self, from: data) } catch {
            throw FlywheelError.invalidArgument("\(source) is damaged: its model could not be read (\(error.localizedDescription))")
        }
    }

    public static func load(contentsOf url: URL) throws -> ModelBundle {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FlywheelError.notFound("cannot read model '\(url.path)': no such file or not readable")
        }
        return try decode(data, source: "'\(url.lastPathComponent)'")
    }

    /// The signature as JSON, for the registry.
    public var signatureJSON: JSONValue {
        .object([
            "target": .string(target), "task": .string(task.rawValue),
            "inputs": .array(signature.map { f in
                var o: [String: JSONValue] = ["name": .string(f.name), "type": .string(f.type.rawValue), "nullable": .bool(f.nullable)]
                if let c = f.categories { o["categories"] = .array(c.map(JSONValue.string)) }
                return .object(o)
            }),
            "classes": classes.map { .array($0.map(JSONValue.string)) } ?? .null,
        ])
    }
}
