import ArgumentParser
import FlywheelCore
import FlywheelRegistry
import Foundation

extension LineageCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", 
            abstract: "Show the lineage of REF, upstream and downstream.",
            discussion: prose("""
                REF is a run ID, run:ID, dataset:sha256:…, sha256:…, model:NAME/VERSION or a
                model URI (models:/iris@production).
                """))
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "What to trace.") var reference: String
        @Option(help: "upstream, downstream or both.") var direction = "both"
        @Option(help: "How many hops to follow.") var depth = 10

        struct View: Encodable {
            var resource: ResourceRef
            var upstream: [LineageEdge]
            var downstream: [LineageEdge]
        }

        func validate() throws {
            guard ["upstream", "downstream", "both"].contains(direction) else {
                throw ValidationError("--direction '\(direction)' is not valid: expected upstream, downstream or both")
            }
            guard depth >= 1 else { throw ValidationError("--depth must be at least 1") }
        }

        func run() async throws {
            let ws = try global.open()
            let ref = try await ws.lineage.resolve(reference)
            let up = direction == "downstream" ? [] : try await ws.lineage.walk(from: ref, direction: .upstream, depth: depth)
            let down = direction == "upstream" ? [] : try await ws.lineage.walk(from: ref, direction: .downstream, depth: depth)
            if output.json { return try Output.json(View(resource: ref, upstream: up, downstream: down)) }
            Output.line(ref.description)
            if direction != "downstream" {
                Output.line("upstream (what it came from):")
                Self.printTree(ref, up, upstream: true)
            }
            if direction != "upstream" {
                Output.line("downstream (what was made from it):")
                Self.printTree(ref, down, upstream: false)
            }
        }

        static func printTree(_ root: ResourceRef, _ edges: [LineageEdge], upstream: Bool) {
            if edges.isEmpty { Output.line("  (none)"); return }
            var children: [ResourceRef: [LineageEdge]] = [:]
            for e in edges { children[upstream ? e.target : e.source, default: []].append(e) }
            var printed: Set<ResourceRef> = []
            func walk(_ node: ResourceRef, _ indent: String) {
                for e in children[node] ?? [] {
                    let other = upstream ? e.source : e.target
                    let arrow = upstream ? "<-[\(e.relation)]-" : "-[\(e.relation)]->"
                    Output.line("\(indent)\(arrow) \(other)")
                    if printed.insert(other).inserted { walk(other, indent + "    ") }
                }
            }
            walk(root, "  ")
        }
    }
}
