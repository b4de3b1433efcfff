import ArgumentParser
import FlywheelCore
import Foundation

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Submit events that start pipelines listening with 'on: [{event: NAME}]'.",
        subcommands: [Submit.self])

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "submit", 
            abstract: "Queue an event for the scheduler.",
            discussion: prose("""
                Give --key when the sender may deliver the same event more than once (a webhook
                retried, a queue with at-least-once delivery): a second submission with the same
                key is ignored. Without --key every submission counts.
                """))
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The event's name.") var name: String
        @Option(help: "A dedupe key: the same key is accepted once.") var key: String?
        @Option(name: [.short, .customLong("param")], help: ArgumentHelp("A param for the runs it starts (repeatable).", valueName: "key=value"))
        var params: [String] = []
        @OptionGroup var output: OutputOptions

        struct Result: Encodable {
            var name: String
            var key: String
            var queued: Bool
        }

        func run() async throws {
            let ws = try global.open()
            let dedupe = key ?? UUID().uuidString.lowercased()
            let queued = try await ws.store.submitEvent(PipelineTriggerEvent(
                name: name, dedupeKey: "\(name):\(dedupe)", params: try parseDictionary(params, flag: "--param"), submittedAt: Timestamp(Date())))
            if output.json { return try Output.json(Result(name: name, key: dedupe, queued: queued)) }
            Output.line(queued ? "queued event \(name) (key \(dedupe))" : "event \(name) with key \(dedupe) was submitted before: ignored")
        }
    }
}
