import FlywheelCore
@testable import FlywheelData
import Foundation
import Testing

/// The fused path for records of unquoted fields against the tokenizer alone, on messy text.
@Suite struct CSVFusedPathTests {
    static let plain = ["1", "-2.5", "0.35473162469205250", "1e5", "+.5", "5.", "-0", "007", "9007199254740993", "4.9e-324",
                        "1.7976931348623157e308", "", "2.5E-3"]
    static let messy = ["NA", "nan", "null", "inf", "-Infinity", "1.5e", "1.5x", "-", ".", "\"3\"", "\"a\"", "x y", "1\r2",
                        "1.5\r", "true", "FALSE", "0.1000000000000000055511151231257827", "1234567890123456789012", "\"q\nq\"",
                        "  1", "1 ", "0." + String(repeating: "0", count: 70) + "1", "1e400", "\u{FF}", "\"\"", "a\"b"]

    /// A file of mostly plain numbers with messy values, odd line endings and ragged rows mixed in.
    static func messyFile(_ rng: inout SeededRandom, rows: Int, messiness: Int, ragged: Bool) -> [UInt8] {
        let columns = 1 + rng.below(4)
        var text = (0..<columns).map { "c\($0)" }.joined(separator: ",") + "\n"
        for r in 0..<rows {
            let count = ragged && rng.below(40) == 0 ? columns + rng.below(3) - 1 : columns
            let fields = (0..<count).map { _ in
                rng.below(100) < messiness ? messy[rng.below(messy.count)] : plain[rng.below(plain.count)]
            }
            if rng.below(25) == 0 { text += ["\n", "\r\n"][rng.below(2)] }
            text += fields.joined(separator: ",")
            if r + 1 < rows || rng.below(2) == 0 { text += ["\n", "\r\n", "\n", "\r\r\n"][rng.below(4)] }
        }
        return text.utf8.map { $0 == 0xC3 ? 0xFF : $0 }  // make "\u{FF}" (C3 BF) an undecodable byte
    }

    static func outcome(_ bytes: [UInt8], _ tuning: CSVReader.Tuning) -> Result<Table, FlywheelError> {
        var reader = CSVReader()
        reader.tuning = tuning
        return Result { () throws(FlywheelError) -> Table in
            do { return try reader.read(Data(bytes), source: "m.csv") } catch let e as FlywheelError { throw e } catch {
                throw FlywheelError.internal("\(error)")
            }
        }
    }

    static func same(_ a: Result<Table, FlywheelError>, _ b: Result<Table, FlywheelError>) -> Bool {
        switch (a, b) {
        case (.success(let x), .success(let y)): x == y
        case (.failure(let x), .failure(let y)): x.message == y.message
        default: false
        }
    }

    @Test(arguments: [0, 2, 10, 40])
    func fusedRecordsReadAsTheTokenizerDoes(messiness: Int) {
        var rng = SeededRandom(seed: UInt64(messiness) + 100)
        let reference = CSVReader.Tuning(blockSize: 1 << 30, threads: 1, fusedRecords: false)
        var failures = 0, tables = 0, errors = 0
        for file in 0..<150 {
            let bytes = Self.messyFile(&rng, rows: 1 + rng.below(120), messiness: messiness, ragged: file % 3 == 0)
            let expected = Self.outcome(bytes, reference)
            if case .success = expected { tables += 1 } else { errors += 1 }
            for tuning in [CSVReader.Tuning(blockSize: 1 << 30, threads: 1),
                           CSVReader.Tuning(
                               blockSize: 1 << 16, threads: 2 + rng.below(3), pieceSize: 50 + rng.below(400),
                               inOrderThread: rng.below(2) == 0)] {
                let got = Self.outcome(bytes, tuning)
                if !Self.same(expected, got) {
                    failures += 1
                    Issue.record("file \(file): \(String(decoding: bytes, as: UTF8.self).debugDescription)\n\(expected)\nvs \(got)")
                }
            }
            if failures > 3 { break }
        }
        // Both outcomes must be exercised: files that read and files that fail.
        #expect(tables > 15 && errors > 5, "\(tables) tables, \(errors) errors")
    }
}
