import FlywheelCore
@testable import FlywheelData
import Foundation
import Testing

/// Reading a block on several threads gives the table and the errors reading it in order gives.
@Suite struct CSVParallelTests {
    static let header = "id,x,note,flag,late_text,early_text,sparse\r\n"

    /// Records (each with its line ending) full of quoted newlines, CRLFs, doubled quotes and blank
    /// lines, and columns whose type is only settled late in the file.
    static func records(_ count: Int, seed: UInt64) -> [String] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { r in
            let eol = rng.below(2) == 0 ? "\n" : "\r\n"
            let x = rng.below(15) == 0 ? "" : "\((rng.unit() - 0.5) * 1000)"
            let note = [
                "\"line one\nline two\"", "\"crlf\r\ninside, with \"\"quotes\"\"\"", "plain \(r % 7)", "\"\n\n\r\n\"", "\"\"",
                "\"a,\"\"b\"\"\nc\"",
            ][rng.below(6)]
            let flag = ["true", "False", "NA", "", "TRUE"][rng.below(5)]
            let late = r < count * 3 / 4 ? "\(r)" : "tag\(r % 3)"  // numbers, then text: read again
            let early = r < 5 ? "x\(r)" : "\(r % 10)"  // text, then numbers: they stay text
            let sparse = r > count * 2 / 3 ? "\(r).5" : ""
            let blank = rng.below(20) == 0 ? eol : ""
            return blank + [String(r), x, note, flag, late, early, sparse].joined(separator: ",") + eol
        }
    }

    /// A reader whose pieces (and single-thread windows) are `blockSize` bytes; without an
    /// in-order thread, every piece starts at a guessed record boundary.
    static func reader(blockSize: Int, threads: Int, inOrder: Bool = true, types: [String: ColumnType] = [:]) -> CSVReader {
        var r = CSVReader(types: types)
        r.tuning = CSVReader.Tuning(blockSize: blockSize, threads: threads, pieceSize: blockSize, inOrderThread: inOrder)
        return r
    }

    static let serial = reader(blockSize: 1 << 30, threads: 1)
    static let splits: [(block: Int, threads: Int, inOrder: Bool)] = [
        (64, 2, false), (300, 3, false), (1_000, 2, false), (4_096, 5, false), (65_536, 4, false),
        (64, 2, true), (300, 3, true), (4_096, 2, true),
    ]

    @Test func parallelPiecesGiveTheSerialTable() throws {
        let text = Self.header + Self.records(3_000, seed: 1).joined()
        let data = Data(text.utf8)
        let serial = try Self.serial.read(data, source: "t.csv")
        #expect(serial.rowCount == 3_000)
        #expect(serial.columns.map(\.type) == [.numeric, .numeric, .categorical, .boolean, .categorical, .categorical, .numeric])
        #expect(serial.columns[4].text(0) == "0" && serial.columns[4].text(2_999) == "tag2")
        #expect(serial.columns[6].isMissing(0) && serial.columns[6].text(2_999) == "2999.5")
        let notes = Set((0..<3_000).compactMap { serial.columns[2].text($0) })
        let expectedNotes: Set<String> = ["line one\nline two", "crlf\r\ninside, with \"quotes\"", "\n\n\r\n", "a,\"b\"\nc"]
        #expect(notes == expectedNotes.union((0..<7).map { "plain \($0)" }))
        for split in Self.splits {
            let t = try Self.reader(blockSize: split.block, threads: split.threads, inOrder: split.inOrder).read(data, source: "t.csv")
            #expect(t == serial, "block \(split.block), \(split.threads) threads, in order \(split.inOrder)")
        }
        // A stream: blocks gathered from small chunks, cut anywhere.
        let chunked = try CSVReader.readChunked(Array(text.utf8), chunkSize: 97, tuning: CSVReader.Tuning(blockSize: 500))
        #expect(chunked == serial)
        // A file, read in pieces with pread.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("parallel-\(UUID().uuidString).csv")
        try data.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        for split in Self.splits {
            let t = try Self.reader(blockSize: split.block, threads: split.threads, inOrder: split.inOrder).read(contentsOf: url)
            #expect(t == serial, "file, block \(split.block), \(split.threads) threads, in order \(split.inOrder)")
        }
    }

    /// Most newlines here are inside quotes, so most guessed cuts are wrong and must be repaired.
    @Test func cutsInsideQuotedFieldsAreRepaired() throws {
        var rng = SeededRandom(seed: 2)
        var text = "a,b\n"
        for r in 0..<2_000 {
            let lines = (0..<(1 + rng.below(6))).map { _ in rng.below(2) == 0 ? "\n" : "\r\n" }.joined()
            text += "\(r),\"\(lines)x\(r % 5)\(lines)\"\(rng.below(2) == 0 ? "\n" : "\r\n")"
        }
        let data = Data(text.utf8)
        let serial = try Self.serial.read(data, source: "q.csv")
        #expect(serial.rowCount == 2_000)
        for split in Self.splits {
            let t = try Self.reader(blockSize: split.block, threads: split.threads, inOrder: split.inOrder).read(data, source: "q.csv")
            #expect(t == serial, "block \(split.block), \(split.threads) threads, in order \(split.inOrder)")
        }
    }

    /// A bad record near the end of the file names its own line, as reading in order does.
    @Test(arguments: ["ragged", "utf8", "declared", "quote", "unterminated"])
    func errorsInLaterPiecesNameTheirLine(_ kind: String) throws {
        let rows = Self.records(3_000, seed: 3)
        let before = Self.header + rows[..<2_500].joined()
        var bytes = Array(before.utf8)
        let line = 1 + before.utf8.filter { $0 == UInt8(ascii: "\n") }.count
        var types: [String: ColumnType] = [:]
        let expected: String
        switch kind {
        case "ragged":
            bytes += Array("1,2,3\n".utf8)
            expected = "t.csv line \(line): expected 7 fields as in the header, found 3"
        case "utf8":
            bytes += Array("1,2,\"two\nlines ".utf8) + [0xFF] + Array("\",true,1,1,\n".utf8)
            expected = "t.csv line \(line): column 'note' has bytes that are not valid UTF-8"
        case "declared":
            types = ["x": .numeric]
            bytes += Array("1,oops,n,true,1,1,\n".utf8)
            expected = "t.csv line \(line): column 'x' is declared numeric but has 'oops'"
        case "quote":
            bytes += Array("1,2,\"a\nb\"c,true,1,1,\n".utf8)
            expected = "t.csv line \(line + 1): unexpected character 'c' after a closing quote (field 3)"
        default:
            bytes += Array("1,2,\"never closed\n".utf8)
            expected = "t.csv line \(line): unterminated quoted field"
        }
        // Later quotes would close an unterminated field, so that case ends with unquoted records.
        bytes += Array((kind == "unterminated" ? String(repeating: "1,2,3\n", count: 300) : rows[2_500...].joined()).utf8)
        let data = Data(bytes)
        let serialError = #expect(throws: FlywheelError.self) {
            try CSVReader(types: types).read(data, source: "t.csv")
        }
        #expect(serialError?.message.hasPrefix(expected) == true, "\(serialError?.message ?? "")")
        for split in Self.splits {
            var reader = Self.reader(blockSize: split.block, threads: split.threads, inOrder: split.inOrder)
            reader.types = types
            let e = #expect(throws: FlywheelError.self) { try reader.read(data, source: "t.csv") }
            #expect(e?.message == serialError?.message, "block \(split.block), \(split.threads) threads, in order \(split.inOrder): \(e?.message ?? "")")
        }
    }

    /// Type inference across pieces: the first value decides, later kinds turn a column to text.
    @Test func typesSettleAcrossPiecesAsInOrder() throws {
        var text = "n,b,t,m\n"
        for r in 0..<400 {
            let n = r == 399 ? "true" : "\(r)"  // numbers, then a boolean: text, read again
            let b = r < 300 ? "" : (r % 2 == 0 ? "true" : "false")  // missing, then booleans
            let t = r % 50 == 0 ? "\"NA\"" : "NA"  // quoted NA is text; unquoted is missing
            let m = r < 200 ? "k\(r % 3)" : "\(r % 4)"  // text first, numbers keep their spelling
            text += "\(n),\(b),\(t),\(m)\n"
        }
        let data = Data(text.utf8)
        let serial = try Self.serial.read(data, source: "m.csv")
        #expect(serial.columns.map(\.type) == [.categorical, .boolean, .categorical, .categorical])
        #expect(serial.columns[0].text(398) == "398" && serial.columns[0].text(399) == "true")
        #expect(serial.columns[2].text(0) == "NA" && serial.columns[2].isMissing(1))
        guard case .categorical(_, let categories) = serial.columns[3].storage else { return }
        #expect(categories == ["k0", "k1", "k2", "0", "1", "2", "3"])
        for split in Self.splits {
            let t = try Self.reader(blockSize: split.block, threads: split.threads, inOrder: split.inOrder).read(data, source: "m.csv")
            #expect(t == serial, "block \(split.block), \(split.threads) threads, in order \(split.inOrder)")
        }
    }
}
