import FlywheelCore
import FlywheelData
import Foundation
import Testing

func csv(_ text: String, types: [String: ColumnType] = [:]) throws -> Table {
    try CSVReader(types: types).read(Data(text.utf8), source: "t.csv")
}

@Suite struct CSVReaderTests {
    @Test func infersTypesAndMissingValues() throws {
        let t = try csv("a,b,c,d\n1,x,true,\n2.5,,False,NA\nNaN,y,,null\n")
        #expect(t.rowCount == 3)
        #expect(t.columns.map(\.type) == [.numeric, .categorical, .boolean, .numeric])
        guard case .numeric(let a) = t.columns[0].storage else { Issue.record("a not numeric"); return }
        #expect(a[0] == 1 && a[1] == 2.5 && a[2].isNaN)
        #expect(t.columns[1].text(0) == "x" && t.columns[1].text(1) == nil && t.columns[1].text(2) == "y")
        #expect(t.columns[2].text(0) == "true" && t.columns[2].text(1) == "false" && t.columns[2].isMissing(2))
        #expect(t.columns[3].missingCount == 3)
    }

    @Test func rfc4180QuotingNewlinesCRLFAndBOM() throws {
        let text = "\u{FEFF}name,note\r\n\"Smith, J\",\"said \"\"hi\"\"\r\nthen left\"\r\n\"\",plain\r\n"
        let t = try csv(text)
        #expect(t.columnNames == ["name", "note"])
        #expect(t.rowCount == 2)
        #expect(t.columns[0].text(0) == "Smith, J")
        #expect(t.columns[1].text(0) == "said \"hi\"\r\nthen left")
        #expect(t.columns[0].isMissing(1))
        #expect(t.columns[1].text(1) == "plain")
        // No trailing newline, blank lines skipped.
        let u = try csv("x,y\n\n1,2\n\n3,4")
        #expect(u.rowCount == 2)
        #expect(u.columns[1].text(1) == "4")
    }

    @Test func aColumnThatTurnsOutTextKeepsEveryValuesSpelling() throws {
        let t = try csv("code\n007\n1.50\nA1\n")
        #expect(t.columns[0].type == .categorical)
        #expect((0..<3).map { t.columns[0].text($0) } == ["007", "1.50", "A1"])
    }

    @Test(arguments: [
        ("a,b\n1,2\n3\n", "t.csv line 3: expected 2 fields as in the header, found 1"),
        ("a,b\n1,2\n\"x\"y,2\n", "t.csv line 3: unexpected character 'y' after a closing quote"),
        ("a,b\n1,\"open\n2,3\n", "t.csv line 2: unterminated quoted field"),
        ("a,a\n1,2\n", "t.csv line 1: the header names column 'a' twice"),
        ("a,\n1,2\n", "header field 2 is empty"),
        ("", "the file is empty"),
        ("a,b\n1,\"x\ny\"\n1,2,3\n", "t.csv line 4: expected 2 fields"),
    ])
    func errorsNameTheLine(_ text: String, _ expected: String) {
        let e = #expect(throws: FlywheelError.self) { try csv(text) }
        #expect(e?.message.contains(expected) == true, "\(e?.message ?? "")")
    }

    @Test func invalidUTF8IsAnErrorWithItsLine() {
        var bytes = Array("a,b\n1,ok\n2,".utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array("\n".utf8)
        let e = #expect(throws: FlywheelError.self) { try CSVReader().read(Data(bytes), source: "t.csv") }
        #expect(e?.message.contains("line 3") == true && e?.message.contains("UTF-8") == true, "\(e?.message ?? "")")
    }

    @Test func declaredTypesAreEnforced() throws {
        let t = try csv("id,v\n1,2\n2,3\n", types: ["id": .categorical])
        #expect(t.columns[0].type == .categorical && t.columns[0].text(1) == "2")
        let e = #expect(throws: FlywheelError.self) { try csv("v\n1\nx\n", types: ["v": .numeric]) }
        #expect(e?.message.contains("line 3") == true && e?.message.contains("declared numeric") == true)
        #expect(throws: FlywheelError.self) { try csv("v\n1\n", types: ["w": .numeric]) }
    }

    /// Chunk boundaries anywhere in the text give the same table as one chunk.
    @Test func chunkBoundariesDoNotMatter() throws {
        let text = "a,b,c\r\n1,\"x,\"\"y\"\"\nz\",true\r\n2.5,,false\r\n\"3\",\"\",\r\n"
        let whole = try csv(text)
        let bytes = Array(text.utf8)
        for size in 1...9 {
            let t = try CSVReader.readChunked(bytes, chunkSize: size)
            #expect(t == whole, "chunk size \(size)")
        }
        #expect(whole.columns[1].text(0) == "x,\"y\"\nz")
    }

    @Test func readsTheSharedIrisFile() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("iris.csv")
        let t = try CSVReader().read(contentsOf: url)
        #expect(t.rowCount == 150)
        #expect(t.columns.map(\.type) == [.numeric, .numeric, .numeric, .numeric, .categorical])
        guard case .categorical(_, let cats) = t.columns[4].storage else { return }
        #expect(cats == ["setosa", "versicolor", "virginica"])
    }
}
