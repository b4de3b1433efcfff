import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import FlywheelServing
import FlywheelYAML
import Foundation

extension DeployCommand {
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "apply", 
            abstract: "Check a deployment file and record it as the deployment's next revision.",
            discussion: prose("""
                Every problem in the file is reported with its line and column, and every model
                it names must resolve in the registry (use --allow-unresolved to apply one whose
                alias will be set later) to a model Flywheel can run: a version logged by MLflow
                with a Python flavor (a pickle) is refused here, naming its flavors. Applying the
                same file twice records nothing new.
                """))
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The deployment YAML file.") var file: String
        @Flag(name: .customLong("allow-unresolved"), help: "Apply even if a named model or alias does not resolve yet.")
        var allowUnresolved = false

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw FlywheelError.notFound("cannot read '\(file)': no such file or not readable")
            }
            let text = String(decoding: data, as: UTF8.self)
            let (spec, diagnostics) = DeploymentSpec.parse(text)
            guard let spec, diagnostics.isEmpty else {
                for d in diagnostics { Output.note("\(file):\(d.description)") }
                throw FlywheelError.invalidArgument("\(file): \(diagnostics.count) problem\(diagnostics.count == 1 ? "" : "s"); nothing applied")
            }
            let ws = try global.open()
            var resolved: [(String, Int?)] = []
            var unresolved: [String] = []
            var unservable: [String] = []
            for ref in spec.references {
                do {
                    let v = try await ws.registry.resolve(ref)
                    resolved.append((ref, v.version))
                    if let p = await ServableCheck.problem(with: v, reference: ref, store: ws.store, blobs: ws.blobs) { unservable.append(p) }
                } catch let e as FlywheelError {
                    unresolved.append("\(ref): \(e.message)")
                    resolved.append((ref, nil))
                }
            }
            // A model Flywheel cannot run is refused now, never at request time (--allow-unresolved
            // is for aliases set later, not for these).
            if !unservable.isEmpty {
                for u in unservable { Output.note("\(file): \(u)") }
                throw FlywheelError.failedPrecondition(
                    "\(file): \(unservable.count) model\(unservable.count == 1 ? "" : "s") cannot be served; nothing applied")
            }
            if !unresolved.isEmpty && !allowUnresolved {
                for u in unresolved { Output.note("\(file): \(u)") }
                throw FlywheelError.failedPrecondition("\(file): \(unresolved.count) model reference\(unresolved.count == 1 ? " does" : "s do") not resolve; nothing applied (--allow-unresolved to apply anyway)")
            }
            let before = try await ws.store.deployment(named: spec.name)
            let rev = try await ws.store.applyDeployment(name: spec.name, spec: text, actor: GlobalOptions.actor(), at: SystemWallClock().now())
            let unchanged = before?.revision == rev.revision
            if output.json {
                struct Out: Encodable {
                    var deployment: String
                    var revision: Int
                    var unchanged: Bool
                    var resolved: [String: Int?]
                }
                return try Output.json(Out(deployment: spec.name, revision: rev.revision, unchanged: unchanged,
                                           resolved: Dictionary(resolved, uniquingKeysWith: { a, _ in a })))
            }
            let routes = resolved.map { "\($0.0) → \($0.1.map { "version \($0)" } ?? "unresolved")" }.joined(separator: ", ")
            Output.line(unchanged
                ? "deployment \(spec.name) unchanged (revision \(rev.revision)): \(routes)"
                : "deployment \(spec.name) revision \(rev.revision) applied: \(routes)")
        }
    }
}
