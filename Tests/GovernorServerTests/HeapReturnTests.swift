import Foundation
import Testing

@testable import GovernorServer

@Suite("Heap memory handed back")
struct HeapReturnTests {
    /// Resident memory of this process, in bytes.
    static func resident() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])) * 1024
    }

    /// 200 MB in blocks small enough to come from the heap (not mmap), written so
    /// they are resident, then freed: glibc keeps them, and the return hands them back.
    @Test("after a large free, the return hands most of it back to the system")
    func handsBack() throws {
        let blocks = 3200, size = 64 << 10
        var pointers: [UnsafeMutableRawPointer] = []
        for _ in 0..<blocks {
            let block = try #require(malloc(size))
            memset(block, 1, size)
            pointers.append(block)
        }
        // Free all but the last, which pins the heap's top: only a trim can return the rest.
        for block in pointers.dropLast() { free(block) }
        let held = try Self.resident()
        let returned = HeapReturn.returnIfLarge()
        let after = try Self.resident()
        free(pointers[pointers.count - 1])
        #expect((returned ?? 0) >= 150 << 20, "the allocator held \((returned ?? 0) >> 20) MB free")
        #expect(held - after >= 100 << 20, "resident \(held >> 20) MB before the return, \(after >> 20) MB after")
    }
}
