import HeraldCommands

@main
enum Herald {
    static func main() async { await HeraldCommand.runMain() }
}
