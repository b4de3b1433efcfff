import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "The model registry: models, numbered versions, aliases and their history.",
        discussion: "Refer to a version as models:/NAME/3 or models:/NAME@production.",
        subcommands: [Create.self, List.self, Show.self, Resolve.self, Versions.self, Alias.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a model name.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "A unique name (letters, digits, '-', '_', '.').") var name: String
        @Option(help: "What the model does.") var description = ""
        @Option(name: .customLong("label"), help: ArgumentHelp("A label KEY=VALUE (repeatable).", valueName: "key=value"))
        var labels: [String] = []

        func run() async throws {
            let labels = try parseLabels(labels)
            let ws = try global.open()
            try await ws.registry.createModel(name: name, description: description, labels: labels)
            Output.line(name)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered models.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(name: [.short, .long], help: "A label selector, e.g. 'team=fraud'.") var selector: String?

        struct Row: Encodable {
            var model: RegisteredModel
            var latestVersion: Int?
            var aliases: [String: Int]
        }

        func run() async throws {
            let sel = try selector.map(LabelSelector.init(parsing:))
            let ws = try global.open()
            var rows: [Row] = []
            for m in try await ws.store.listModels() where sel?.matches(m.labels) ?? true {
                rows.append(Row(
                    model: m, latestVersion: try await ws.store.modelVersions(model: m.name).last?.version,
                    aliases: try await ws.store.aliases(model: m.name)))
            }
            if output.json { return try Output.json(rows) }
            Output.table(["NAME", "LATEST", "ALIASES", "LABELS", "UPDATED"], rows.map { r in
                [r.model.name, r.latestVersion.map(String.init) ?? "-",
                 r.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                 r.model.labels.formatted, Output.time(r.model.updatedAt)]
            })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a model: versions, aliases and the history of changes.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The model's name.") var name: String

        func run() async throws {
            let ws = try global.open()
            let s = try await ws.registry.summary(name)
            if output.json { return try Output.json(s) }
            Output.line("Model \(s.model.name)")
            if !s.model.description.isEmpty { Output.line("  \(s.model.description)") }
            if !s.model.labels.isEmpty { Output.line("  labels: \(s.model.labels.formatted)") }
            let byVersion = Dictionary(grouping: s.aliases, by: \.value).mapValues { $0.map(\.key).sorted() }
            Output.line("\nVersions")
            Output.table(["VERSION", "STATUS", "ALIASES", "RUN", "DIGEST", "CREATED"], s.versions.map { v in
                [String(v.version), v.status.rawValue, byVersion[v.version]?.joined(separator: ",") ?? "",
                 v.runID.map { String($0.rawValue.prefix(12)) } ?? "-", v.digest.map { String($0.description.prefix(19)) } ?? "-",
                 Output.time(v.createdAt)]
            })
            Output.line("\nHistory")
            Output.table(["TIME", "CHANGE", "ACTOR", "REASON"], s.events.map { e in
                [Output.time(e.time), Self.describe(e), e.actor, e.reason]
            })
        }

        static func describe(_ e: RegistryEvent) -> String {
            switch e.kind {
            case .versionCreated: "version \(e.version ?? 0) created"
            case .aliasSet:
                e.previousVersion.map { "@\(e.alias ?? "") moved \($0) -> \(e.version ?? 0)" } ?? "@\(e.alias ?? "") set to \(e.version ?? 0)"
            case .aliasDeleted: "@\(e.alias ?? "") removed (was \(e.previousVersion ?? 0))"
            case .statusChanged:
                "version \(e.version ?? 0) \(e.previousStatus?.rawValue ?? "?") -> \(e.status?.rawValue ?? "?")"
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve models:/NAME/VERSION or models:/NAME@ALIAS to a version.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The model reference.") var reference: String

        func run() async throws {
            _ = try ModelURI(parsing: reference)
            let ws = try global.open()
            let v = try await ws.registry.resolve(reference)
            if output.json { return try Output.json(v) }
            Output.line("\(v.modelName) version \(v.version)  \(v.digest?.description ?? "")")
        }
    }

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create, list and change the status of model versions.",
            subcommands: [Create.self, List.self, Status.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Register a new version of a model and print its number.",
                discussion: """
                    The model file comes from --file (stored by digest) or --artifact, a path the
                    run logged. --signature is the input signature as JSON, or @FILE to read it.
                    """)
            @OptionGroup var global: GlobalOptions
            @Argument(help: "The model's name.") var name: String
            @Option(help: "The run that produced the version.") var run: String?
            @Option(help: "A model file to store with the version.") var file: String?
            @Option(help: "A logical artifact path of --run holding the model file.") var artifact: String?
            @Option(help: "The input signature: JSON text or @FILE.") var signature: String?
            @Option(help: "What changed in this version.") var description = ""
            @Option(help: "Also point this alias at the new version.") var alias: String?
            @Option(help: "Why (recorded with the alias move).") var reason = ""

            func validate() throws {
                if file != nil && artifact != nil { throw ValidationError("give --file or --artifact, not both") }
                if artifact != nil && run == nil { throw ValidationError("--artifact needs --run: the run that logged it") }
                if let alias { try validateAlias(alias) }
            }

            func run() async throws {
                let runID = try run.map(parseRunID)
                let sig = try signature.map(Self.parseSignature)
                let source: ModelRegistry.ModelSource =
                    if let file { .file(URL(fileURLWithPath: file)) } else if let artifact { .runArtifact(artifact) } else { .none }
                let ws = try global.open()
                let who = Attribution(actor: GlobalOptions.actor(), reason: reason)
                let v = try await ws.registry.createVersion(
                    model: name, run: runID, source: source, signature: sig, description: description, by: who)
                if let alias { try await ws.registry.setAlias(alias, model: name, version: v.version, by: who) }
                Output.line(String(v.version))
            }

            static func parseSignature(_ text: String) throws -> JSONValue {
                var data = Data(text.utf8)
                if text.hasPrefix("@") {
                    guard let d = FileManager.default.contents(atPath: String(text.dropFirst())) else {
                        throw ValidationError("--signature '\(text)': no such file")
                    }
                    data = d
                }
                do { return try JSONDecoder().decode(JSONValue.self, from: data) } catch {
                    throw ValidationError("--signature is not valid JSON: \(error.localizedDescription)")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List a model's versions.")
            @OptionGroup var global: GlobalOptions
            @OptionGroup var output: OutputOptions
            @Argument(help: "The model's name.") var name: String

            func run() async throws {
                let ws = try global.open()
                let vs = try await ws.registry.versions(name)
                if output.json { return try Output.json(vs) }
                Output.table(["VERSION", "STATUS", "RUN", "SOURCE", "CREATED"], vs.map { v in
                    [String(v.version), v.status.rawValue, v.runID?.rawValue ?? "-", v.source, Output.time(v.createdAt)]
                })
            }
        }

        struct Status: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Set a version's status: ready, deprecated or archived.")
            @OptionGroup var global: GlobalOptions
            @Argument(help: "The model's name.") var name: String
            @Argument(help: "The version number.") var version: Int
            @Argument(help: "ready, deprecated or archived.") var status: String
            @Option(help: "Why (recorded in the history).") var reason = ""

            func run() async throws {
                let s = try ModelVersionStatus(parsing: status)
                let ws = try global.open()
                try await ws.registry.setStatus(s, model: name, version: version, by: Attribution(actor: GlobalOptions.actor(), reason: reason))
                Output.line("\(name) version \(version) is now \(s.rawValue)")
            }
        }
    }

    struct Alias: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Point an alias (production, staging, any name) at a version, or remove it.",
            subcommands: [Set.self, Delete.self])

        struct Set: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Point ALIAS at VERSION (recorded with who and why).")
            @OptionGroup var global: GlobalOptions
            @Argument(help: "The model's name.") var name: String
            @Argument(help: "The alias.") var alias: String
            @Argument(help: "The version number.") var version: Int
            @Option(help: "Why (recorded in the history).") var reason = ""

            func run() async throws {
                try validateAlias(alias)
                let ws = try global.open()
                let old = try await ws.registry.setAlias(alias, model: name, version: version, by: Attribution(actor: GlobalOptions.actor(), reason: reason))
                Output.line("\(name)@\(alias) -> \(version)\(old.map { " (was \($0))" } ?? "")")
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove an alias.")
            @OptionGroup var global: GlobalOptions
            @Argument(help: "The model's name.") var name: String
            @Argument(help: "The alias.") var alias: String
            @Option(help: "Why (recorded in the history).") var reason = ""

            func run() async throws {
                let ws = try global.open()
                let old = try await ws.registry.deleteAlias(alias, model: name, by: Attribution(actor: GlobalOptions.actor(), reason: reason))
                Output.line("removed \(name)@\(alias) (was \(old))")
            }
        }
    }
}
