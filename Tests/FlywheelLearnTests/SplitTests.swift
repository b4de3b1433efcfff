import FlywheelLearn
import Testing

@Suite struct SplitTests {
    static let labels: [Int] = (0..<103).map { i in i % 10 < 6 ? 0 : (i % 10 < 9 ? 1 : 2) }

    @Test func stratifiedSplitKeepsClassCounts() throws {
        let fold = try TrainTestSplit(testFraction: 0.3, seed: 1).split(labels: Self.labels)
        #expect(fold.test.count == 31)  // ⌈0.3 · 103⌉
        #expect(Set(fold.train).isDisjoint(with: fold.test))
        #expect((fold.train + fold.test).sorted() == Array(0..<103))
        for c in 0..<3 {
            let total = Self.labels.filter { $0 == c }.count
            let inTest = fold.test.filter { Self.labels[$0] == c }.count
            let exact = 31 * Double(total) / 103
            #expect(abs(Double(inTest) - exact) < 1, "class \(c): \(inTest) test rows, \(exact) expected")
        }
    }

    @Test func sameSeedSameSplitOtherSeedOther() throws {
        let a = try TrainTestSplit(testFraction: 0.25, seed: 7).split(rowCount: 100)
        let b = try TrainTestSplit(testFraction: 0.25, seed: 7).split(rowCount: 100)
        let c = try TrainTestSplit(testFraction: 0.25, seed: 8).split(rowCount: 100)
        #expect(a == b)
        #expect(a != c)
        #expect(a.test.count == 25 && a.train.count == 75)
        let s1 = try TrainTestSplit(testFraction: 0.25, seed: 7).split(labels: Self.labels)
        let s2 = try TrainTestSplit(testFraction: 0.25, seed: 7).split(labels: Self.labels)
        #expect(s1 == s2)
    }

    @Test(arguments: [false, true])
    func kFoldPartitionsTheRows(shuffle: Bool) throws {
        let folds = try KFold(foldCount: 4, shuffle: shuffle, seed: 3).splits(rowCount: 10)
        #expect(folds.count == 4)
        #expect(folds.map(\.test.count) == [3, 3, 2, 2])
        #expect(folds.flatMap(\.test).sorted() == Array(0..<10))
        for f in folds {
            #expect(Set(f.train).isDisjoint(with: f.test))
            #expect((f.train + f.test).sorted() == Array(0..<10))
        }
        if !shuffle { #expect(folds[0].test == [0, 1, 2]) }
        let again = try KFold(foldCount: 4, shuffle: shuffle, seed: 3).splits(rowCount: 10)
        #expect(folds == again)
    }

    @Test func shuffledKFoldDependsOnTheSeed() throws {
        let a = try KFold(foldCount: 5, shuffle: true, seed: 1).splits(rowCount: 50)
        let b = try KFold(foldCount: 5, shuffle: true, seed: 2).splits(rowCount: 50)
        #expect(a != b)
        #expect(a[0].test != Array(0..<10))
    }

    @Test(arguments: [false, true])
    func stratifiedKFoldBalancesClassesAndPartitions(shuffle: Bool) throws {
        let folds = try StratifiedKFold(foldCount: 5, shuffle: shuffle, seed: 4).splits(labels: Self.labels)
        #expect(folds.count == 5)
        #expect(folds.flatMap(\.test).sorted() == Array(0..<103))
        let sizes = folds.map(\.test.count)
        #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1)
        for c in 0..<3 {
            let perFold = folds.map { f in f.test.filter { Self.labels[$0] == c }.count }
            #expect((perFold.max() ?? 0) - (perFold.min() ?? 0) <= 1, "class \(c) per fold: \(perFold)")
        }
        for f in folds { #expect((f.train + f.test).sorted() == Array(0..<103)) }
        #expect(folds == (try StratifiedKFold(foldCount: 5, shuffle: shuffle, seed: 4).splits(labels: Self.labels)))
    }

    @Test func invalidSettingsAreErrors() {
        #expect(throws: (any Error).self) { try TrainTestSplit(testFraction: 1.2).split(rowCount: 10) }
        #expect(throws: (any Error).self) { try KFold(foldCount: 1).splits(rowCount: 10) }
        #expect(throws: (any Error).self) { try StratifiedKFold(foldCount: 20).splits(labels: [0, 1, 0]) }
    }
}
