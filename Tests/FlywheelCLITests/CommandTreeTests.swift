import ArgumentParser
import FlywheelCLI
import Testing

@Suite struct CommandTreeTests {
    /// Every command names itself. Without a name, ArgumentParser derives one with
    /// `String(describing: type)` while it builds the command tree, on every start, and each such
    /// call scans the binary's whole protocol-conformance table: 79 of them took about 15 ms of
    /// `flywheel`'s 38 ms start-up (measured with perf; 23 ms once every command had its name).
    @Test func everyCommandSetsItsName() {
        var unnamed: [String] = []
        var seen = 0
        func walk(_ command: any ParsableCommand.Type, _ path: String) {
            seen += 1
            let name = command.configuration.commandName
            if name == nil { unnamed.append("\(path) (\(command))") }
            for sub in command.configuration.subcommands { walk(sub, path + " " + (sub.configuration.commandName ?? "?")) }
        }
        walk(FlywheelCommand.self, "flywheel")
        #expect(seen > 70)
        #expect(unnamed.isEmpty, "commands without commandName: \(unnamed.joined(separator: ", "))")
    }
}
