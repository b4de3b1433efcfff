import FlywheelCLI
import Foundation

exit(await FlywheelCommand.run(arguments: Array(CommandLine.arguments.dropFirst())))
