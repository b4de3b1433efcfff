import ArgumentParser
import FlywheelCore
import FlywheelData
import Foundation

struct FeedbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feedback", abstract: "Record true labels for logged predictions.", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", 
            abstract: "Import labels from a CSV with columns request_id, label and optionally index.",
            discussion: prose("""
                Each row names a logged prediction by the request ID it was answered with (and its
                index within the request, default 0) and gives its true label. A later label for
                the same prediction replaces the earlier. Labels are joined to the prediction log
                for monitoring ('flywheel logs predictions' shows them).
                """))
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The CSV file.") var file: String

        func run() async throws {
            let url = URL(fileURLWithPath: file)
            guard FileManager.default.isReadableFile(atPath: file) else { throw FlywheelError.notFound("cannot read '\(file)': no such file or not readable") }
            // Everything as text: a label like "1" stays the label "1", and request IDs are never numbers.
            let names = try CSVReader().inferTypes(contentsOf: url).keys
            let table = try CSVReader(types: Dictionary(uniqueKeysWithValues: names.map { ($0, ColumnType.categorical) })).read(contentsOf: url)
            let ids = try table.requireColumn("request_id"), labels = try table.requireColumn("label")
            let index = table.column(named: "index")
            let now = SystemWallClock().now()
            var out: [FeedbackLabel] = []
            for r in 0..<table.rowCount {
                let line = r + 2
                guard let id = ids.text(r), !id.isEmpty else { throw FlywheelError.invalidArgument("\(file): line \(line): empty request_id") }
                guard let label = labels.text(r), !label.isEmpty else { throw FlywheelError.invalidArgument("\(file): line \(line): empty label") }
                var i = 0
                if let index, let t = index.text(r), !t.isEmpty {
                    guard let n = Int(t), n >= 0 else { throw FlywheelError.invalidArgument("\(file): line \(line): index '\(t)' is not a whole number ≥ 0") }
                    i = n
                }
                out.append(FeedbackLabel(requestID: id, index: i, label: .string(label), time: now))
            }
            let ws = try global.open()
            let matched = try await ws.store.recordFeedback(out)
            if output.json {
                struct Out: Encodable {
                    var recorded: Int
                    var matched: Int
                }
                return try Output.json(Out(recorded: out.count, matched: matched))
            }
            Output.line("recorded \(out.count) label\(out.count == 1 ? "" : "s"); \(matched) matched a logged prediction")
            if matched < out.count {
                Output.note("\(out.count - matched) name no logged prediction (yet): they are kept and join once the prediction is logged")
            }
        }
    }
}
