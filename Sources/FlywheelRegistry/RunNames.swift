import FlywheelCore

/// Readable default run names (`brisk-heron-42`), derived from the run ID so they are stable.
public enum RunNames {
    static let adjectives = [
        "amber", "bold", "brisk", "calm", "clever", "crisp", "dapper", "eager", "fair", "gentle", "glad", "grand",
        "hardy", "jolly", "keen", "lively", "lucky", "merry", "nimble", "noble", "proud", "quick", "quiet", "rapid",
        "sleek", "smart", "steady", "sunny", "swift", "tidy", "vivid", "witty",
    ]
    static let nouns = [
        "ant", "badger", "bee", "crane", "deer", "dove", "eagle", "falcon", "finch", "fox", "gull", "hare", "heron",
        "ibis", "koala", "lark", "lynx", "mole", "newt", "otter", "owl", "panda", "puffin", "quail", "robin", "seal",
        "stork", "swan", "tern", "trout", "wolf", "wren",
    ]

    public static func make(from id: RunID) -> String {
        var h: UInt64 = 1469598103934665603
        for b in id.rawValue.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        let a = adjectives[Int(h % UInt64(adjectives.count))]
        let n = nouns[Int((h >> 16) % UInt64(nouns.count))]
        return "\(a)-\(n)-\((h >> 32) % 1000)"
    }
}
