import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import FlywheelServing
import Foundation

extension DeployCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List deployments with their routes and the versions they resolve to now.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions

        struct Row: Encodable {
            var deployment: String
            var revision: Int
            var routes: [RouteRow]
            var shadow: [String]
            var appliedBy: String
            var appliedAt: Timestamp
        }

        struct RouteRow: Encodable {
            var model: String
            var weight: Double
            var version: Int?
        }

        func run() async throws {
            let ws = try global.open()
            var rows: [Row] = []
            for d in try await ws.store.listDeployments() {
                rows.append(try await DeployCommand.describe(d, ws: ws))
            }
            if output.json { return try Output.json(rows) }
            Output.table(["NAME", "REVISION", "ROUTES", "SHADOW", "APPLIED"], rows.map { r in
                [r.deployment, String(r.revision),
                 r.routes.map { "\($0.model)=\($0.version.map(String.init) ?? "?") (\(Output.number($0.weight)))" }.joined(separator: ", "),
                 r.shadow.joined(separator: ", "), "\(Output.time(r.appliedAt)) by \(r.appliedBy)"]
            })
        }
    }

    /// A deployment's current revision with each route resolved against the registry now.
    static func describe(_ d: DeploymentRevision, ws: Workspace) async throws -> List.Row {
        let spec = DeploymentSpec.parse(d.spec).spec
        var routes: [List.RouteRow] = []
        for r in spec?.routes ?? [] {
            routes.append(.init(model: r.model, weight: r.weight, version: try? await ws.registry.resolve(r.model).version))
        }
        return List.Row(deployment: d.name, revision: d.revision, routes: routes, shadow: spec?.shadow ?? [], appliedBy: d.actor, appliedAt: d.time)
    }
}
