import ArgumentParser
import FlywheelCore
import FlywheelData
import Foundation

/// Reads `runs log --batch` JSON Lines.
enum BatchFile {
    struct Records {
        var metrics: [Metric] = []
        var params: [Param] = []
        var tags: [Tag] = []
    }

    struct Line: Decodable {
        var metric: String?
        var param: String?
        var tag: String?
        var value: JSONValue?
        var step: Int64?
        var timestamp: Int64?
    }

    static func read(_ path: String, now: Timestamp) throws -> Records {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--batch '\(path)': no such file or not readable")
            }
            data = d
        }
        var out = Records()
        let decoder = JSONDecoder()
        var lineNo = 0
        for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNo += 1
            let trimmed = raw.drop { $0 == 32 || $0 == 9 || $0 == 13 }
            if trimmed.isEmpty { continue }
            let where_ = "--batch \(path == "-" ? "stdin" : path) line \(lineNo)"
            let line: Line
            do { line = try decoder.decode(Line.self, from: Data(raw)) } catch {
                throw ValidationError("\(where_): not a JSON object: expected {\"metric\": KEY, \"value\": NUMBER, \"step\": N}, {\"param\": KEY, \"value\": TEXT} or {\"tag\": KEY, \"value\": TEXT}")
            }
            let named = [line.metric, line.param, line.tag].compactMap { $0 }
            guard named.count == 1 else {
                throw ValidationError("\(where_): expected exactly one of \"metric\", \"param\", \"tag\"")
            }
            if let k = line.metric {
                let v: Double
                switch line.value {
                case .number(let d): v = d
                case .string(let s) where ["NaN", "Infinity", "-Infinity", "nan", "inf", "-inf"].contains(s): v = Double(s.replacingOccurrences(of: "Infinity", with: "inf")) ?? .nan
                default: throw ValidationError("\(where_): metric '\(k)' needs a numeric \"value\"")
                }
                out.metrics.append(Metric(key: k, value: v, step: line.step ?? 0,
                                          timestamp: line.timestamp.map { Timestamp(millisecondsSince1970: $0) } ?? now))
            } else {
                let text: String
                switch line.value {
                case .string(let s): text = s
                case .number(let d): text = NumberFormatting.shortest(d)  // exact, not the 6-digit display form
                case .bool(let b): text = String(b)
                default: throw ValidationError("\(where_): \"value\" must be a string or number")
                }
                if let k = line.param { out.params.append(Param(key: k, value: text)) }
                if let k = line.tag { out.tags.append(Tag(key: k, value: text)) }
            }
        }
        return out
    }
}
