import ArgumentParser
import FlywheelCore
import FlywheelPipelines
import FlywheelStore
import Foundation

struct StepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Run one built-in component on its own (what a Kubeflow container runs).",
        subcommands: [Exec.self])

    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "exec", 
            abstract: "Run a component with inputs given as values and files, writing its outputs to paths.",
            discussion: prose("""
                'flywheel pipelines compile --target kfp' writes containers that call this with
                KFP's placeholders. --with is the step's with: as JSON, ${{ }} kept; each
                reference it makes is given by --value REF=TYPE:TEXT (params.n, steps.s.outputs.o)
                or --artifact REF=TYPE:PATH. Outputs go to --output NAME=PATH (files) and
                --output-parameter NAME=PATH (values, written as text or JSON). Runs inside the
                workspace given by --workspace or FLYWHEEL_WORKSPACE, else in a temporary one.
                """))
        @Option(name: .long, help: ArgumentHelp("The workspace folder (default: FLYWHEEL_WORKSPACE, else a temporary one).", valueName: "path"))
        var workspace: String?
        @Argument(help: "The component, e.g. learn/train.") var component: String
        @Option(name: .customLong("with"), help: "The step's with: as a JSON object.") var withJSON = "{}"
        @Option(name: .customLong("value"), help: ArgumentHelp("A reference's value (repeatable).", valueName: "ref=type:text"))
        var values: [String] = []
        @Option(name: .customLong("artifact"), help: ArgumentHelp("A reference's file (repeatable).", valueName: "ref=type:path"))
        var artifacts: [String] = []
        @Option(name: .customLong("output"), help: ArgumentHelp("Where to write a file output (repeatable).", valueName: "name=path"))
        var outputs: [String] = []
        @Option(name: .customLong("output-parameter"), help: ArgumentHelp("Where to write a value output (repeatable).", valueName: "name=path"))
        var outputParameters: [String] = []

        func run() async throws {
            guard let withValue = try? JSONDecoder().decode(JSONValue.self, from: Data(withJSON.utf8)), case .object(let withObject) = withValue else {
                throw FlywheelError.invalidArgument("--with must be a JSON object, got \(withJSON)")
            }
            let with = try withObject.mapValues(SpecValue.init(json:))
            var typedValues: [String: JSONValue] = [:]
            for (ref, spec) in try parsePairs(values, flag: "--value") {
                let (type, text) = try Self.typed(spec, flag: "--value \(ref)")
                typedValues[ref] = try Self.value(text, type: type, ref: ref)
            }
            var files: [String: (PortType, URL)] = [:]
            for (ref, spec) in try parsePairs(artifacts, flag: "--artifact") {
                let (type, path) = try Self.typed(spec, flag: "--artifact \(ref)")
                files[ref] = (type, URL(fileURLWithPath: path))
            }
            let fileOutputs = try parseDictionary(outputs, flag: "--output")
            let valueOutputs = try parseDictionary(outputParameters, flag: "--output-parameter")

            let ws = try openWorkspace()
            let executor = PipelineExecutor(store: ws.store, blobs: ws.blobs, workspaceRoot: ws.root)
            let produced = try await executor.execute(component: component, with: with, values: typedValues, files: files) { e in
                if case .stepLog(_, let line) = e { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
            }
            for (name, path) in fileOutputs {
                guard case .artifact(_, let digest)? = produced[name] else {
                    throw FlywheelError.invalidArgument("--output \(name): \(component) has no file output '\(name)'")
                }
                let url = URL(fileURLWithPath: path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try await ws.blobs.export(digest, to: url)
            }
            for (name, path) in valueOutputs {
                guard let v = produced[name] else {
                    throw FlywheelError.invalidArgument("--output-parameter \(name): \(component) has no output '\(name)'")
                }
                let url = URL(fileURLWithPath: path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                let text: String
                switch v {
                case .value(.array), .value(.object), .list: text = v.recorded == .null ? "" : PipelineValue.value(v.recorded).textJSON
                default: text = v.text
                }
                try Data(text.utf8).write(to: url)
            }
        }

        func openWorkspace() throws -> Workspace {
            if let path = workspace ?? ProcessInfo.processInfo.environment["FLYWHEEL_WORKSPACE"] {
                return try Workspace.open(try Workspace.locate(explicit: path, from: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)))
            }
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("flywheel-step-\(UUID().uuidString)")
            _ = try Workspace.initialize(at: tmp)
            return try Workspace.open(tmp)
        }

        static func typed(_ spec: String, flag: String) throws -> (PortType, String) {
            guard let colon = spec.firstIndex(of: ":"), let type = PortType(rawValue: String(spec[..<colon])) else {
                throw FlywheelError.invalidArgument("\(flag)=\(spec): expected TYPE:VALUE with TYPE one of \(PortType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return (type, String(spec[spec.index(after: colon)...]))
        }

        /// KFP substitutes a parameter as text: strings raw, numbers and booleans as written, lists and structs as JSON.
        static func value(_ text: String, type: PortType, ref: String) throws -> JSONValue {
            switch type {
            case .string: return .string(text)
            case .integer, .number:
                guard let d = Double(text.trimmingCharacters(in: .whitespaces)) else { throw FlywheelError.invalidArgument("--value \(ref): '\(text)' is not a number") }
                return .number(d)
            case .boolean:
                switch text.lowercased() {
                case "true", "1": return .bool(true)
                case "false", "0": return .bool(false)
                default: throw FlywheelError.invalidArgument("--value \(ref): '\(text)' is not true or false")
                }
            default:
                if let v = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) { return v }
                return .string(text)
            }
        }
    }
}
