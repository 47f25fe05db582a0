import Foundation
import HeraldDaemon

// heraldd: everything lives in HeraldDaemon; this only hands over the arguments and environment.
exit(await DaemonMain.run(arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment))
