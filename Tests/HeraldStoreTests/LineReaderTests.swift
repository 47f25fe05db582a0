import Testing

@testable import HeraldLedger
@testable import HeraldIngest

@Suite struct LineReaderTests {
    /// Every line of `text` read with tiny chunks, long lines shown as "<N bytes>".
    func lines(_ bytes: [UInt8], chunk: Int, maxLine: Int) throws -> [String] {
        let dir = try TempDir()
        let reader = try LineReader(path: try dir.write("f", bytes: bytes), chunkSize: chunk, maxLine: maxLine)
        var out: [String] = []
        while let l = try reader.next() {
            switch l {
            case .text(let b): out.append(String(decoding: b, as: UTF8.self))
            case .tooLong(let n): out.append("<\(n) bytes>")
            }
        }
        #expect(reader.lineNumber == out.count)
        #expect(reader.bytesRead == Int64(bytes.count))
        return out
    }

    @Test(arguments: [16, 17, 23, 64, 1 << 20])
    func splitsAcrossChunksAndSkipsLongLines(chunk: Int) throws {
        let long = String(repeating: "x", count: 100)
        let text = "\u{FEFF}first\r\nsecond line\n\n" + long + "\nafter\n" + String(repeating: "y", count: 40) + "\nlast"
        let got = try lines(Array(text.utf8), chunk: chunk, maxLine: 32)
        #expect(got == ["first", "second line", "", "<100 bytes>", "after", "<40 bytes>", "last"])
    }

    @Test func emptyFileAndTrailingNewline() throws {
        #expect(try lines([], chunk: 16, maxLine: 8).isEmpty)
        #expect(try lines(Array("a\nb\n".utf8), chunk: 16, maxLine: 8) == ["a", "b"])
    }
}
