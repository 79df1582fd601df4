import GovernorCore
import Testing

@Suite struct EgressAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1", EgressAddress.Family.ipv4),
        ("::ffff:192.0.2.1", "192.0.2.1", .ipv4),
        ("2001:DB8:0:0::1", "2001:db8::1", .ipv6),
        ("::1", "::1", .ipv6),
    ])
    func oneSpellingPerAddress(text: String, canonical: String, family: EgressAddress.Family) throws {
        let address = try #require(EgressAddress(text))
        #expect(address.description == canonical)
        #expect(address.family == family)
    }

    @Test(arguments: ["", "host.example", "192.0.2.1:80", "300.1.1.1", "fe80::1%eth0", "1.2.3", String(repeating: "1", count: 100)])
    func notAnAddress(text: String) {
        #expect(EgressAddress(text) == nil)
    }

    @Test func ranges() throws {
        let ten = try #require(AddressRange("10.0.0.0/8"))
        #expect(ten.contains(try #require(EgressAddress("10.200.3.4"))))
        #expect(!ten.contains(try #require(EgressAddress("11.0.0.1"))))
        #expect(!ten.contains(try #require(EgressAddress("::ffff:11.0.0.1"))))
        let one = try #require(AddressRange("127.0.0.1"))
        #expect(one.contains(try #require(EgressAddress("127.0.0.1"))))
        #expect(!one.contains(try #require(EgressAddress("127.0.0.2"))))
        let v6 = try #require(AddressRange("2001:db8::/32"))
        #expect(v6.contains(try #require(EgressAddress("2001:db8:ffff::9"))))
        #expect(!v6.contains(try #require(EgressAddress("2001:db9::9"))))
        #expect(try #require(AddressRange("2001:db8::/127")).contains(try #require(EgressAddress("2001:db8::1"))))
        #expect(try #require(AddressRange("0.0.0.0/0")).contains(try #require(EgressAddress("203.0.113.9"))))
        for bad in ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "::/129", "/8", "10.0.0.0/-1"] {
            #expect(AddressRange(bad) == nil, "\(bad)")
        }
    }

    @Test func forwardedForOnlyFromTrustedProxies() throws {
        let proxy = try #require(EgressAddress("10.0.0.5"))
        let stranger = try #require(EgressAddress("198.51.100.7"))
        let trusted = [try #require(AddressRange("10.0.0.0/8"))]
        // A peer that is not a trusted proxy cannot name another address.
        #expect(ForwardedClient.address(peer: stranger, forwardedFor: ["203.0.113.1"], trusted: trusted) == stranger)
        // The proxy's header names the client; a forged entry left of it is ignored.
        #expect(ForwardedClient.address(peer: proxy, forwardedFor: ["1.1.1.1, 203.0.113.1"], trusted: trusted).description == "203.0.113.1")
        // Proxies in a chain are walked past; two header lines count as one list.
        #expect(ForwardedClient.address(peer: proxy, forwardedFor: ["203.0.113.1", "10.0.0.9"], trusted: trusted).description == "203.0.113.1")
        // Garbage stops the walk at the last trusted hop.
        #expect(ForwardedClient.address(peer: proxy, forwardedFor: ["203.0.113.1, unknown"], trusted: trusted) == proxy)
        // No header: the peer.
        #expect(ForwardedClient.address(peer: proxy, forwardedFor: [], trusted: trusted) == proxy)
    }
}

@Suite struct EgressLedgerTests {
    let nat = EgressAddress("203.0.113.10")!
    let other = EgressAddress("203.0.113.20")!
    let v6 = EgressAddress("2001:db8::10")!
    let start: UnixTime = 1_790_000_000

    @Test func probesBehindOneAddressShareIt() {
        var ledger = EgressLedger()
        ledger.observe(probe: "a-1", school: "a", address: nat, source: .request, at: start)
        ledger.observe(probe: "b-1", school: "b", address: nat, source: .request, at: start)
        ledger.observe(probe: "c-1", school: "c", address: other, source: .request, at: start)
        let view = ledger.view(of: "a-1", now: start)
        #expect(view?.address == nat)
        #expect(view?.sharedWith.map(\.probe) == ["b-1"])
        #expect(view?.sharedWith.map(\.school) == ["b"])
        #expect(ledger.view(of: "c-1", now: start)?.sharedWith.isEmpty == true)
        #expect(ledger.sharedEgresses == (1, 2))
        // b-1 moves: nothing is shared any more.
        ledger.observe(probe: "b-1", school: "b", address: other, source: .request, at: start + 60)
        #expect(ledger.view(of: "a-1", now: start)?.sharedWith.isEmpty == true)
        #expect(ledger.sharedEgresses == (1, 2))
        #expect(ledger.sharerCount(of: "c-1") == 1)
        ledger.keep(only: ["a-1": "a", "b-1": "b"])
        #expect(ledger.sharedEgresses == (0, 0))
        #expect(ledger.view(of: "c-1", now: start) == nil)
    }

    @Test("a district's proxy: thousands of probes on one egress, each row lists the first five others by name and counts them all")
    func manyBehindOneProxy() {
        var ledger = EgressLedger()
        // Joined in no order; one leaves for another address.
        for index in (0..<2000).map({ ($0 * 7919) % 2000 }) {
            ledger.observe(probe: String(format: "p-%04d", index), school: "s-\(index % 50)", address: nat, source: .request, at: start)
        }
        ledger.observe(probe: "p-0001", school: "s-1", address: other, source: .request, at: start + 1)
        let view = ledger.view(of: "p-0000", now: start + 1)
        #expect(view?.sharedWith.map(\.probe) == ["p-0002", "p-0003", "p-0004", "p-0005", "p-0006"])
        #expect(view?.sharedCount == 1998 && ledger.sharedEgresses == (1, 1999))
        #expect(ledger.view(of: "p-1999", now: start + 1)?.sharedWith.first?.probe == "p-0000")
    }

    @Test func theMeasuredAddressIsTheEgress() {
        var ledger = EgressLedger()
        ledger.observe(probe: "a-1", school: "a", address: EgressAddress("10.1.2.3")!, source: .request, at: start)
        ledger.observe(probe: "a-1", school: "a", address: nat, source: .measurement, at: start + 10)
        ledger.observe(probe: "a-1", school: "a", address: EgressAddress("10.1.2.3")!, source: .request, at: start + 20)
        let view = ledger.view(of: "a-1", now: start + 20)
        #expect(view?.address == nat)
        #expect(view?.source == .measurement)
        #expect(view?.requestAddress?.description == "10.1.2.3")
        // Requests and measurements are separate trails: no switch is seen between them.
        #expect(view?.conflict == nil)
    }

    @Test func switchingTwiceWithinADayIsAConflict() {
        var ledger = EgressLedger()
        ledger.observe(probe: "p", school: "s", address: nat, source: .request, at: start)
        ledger.observe(probe: "p", school: "s", address: other, source: .request, at: start + 100)
        // One switch (a new DHCP lease) is no conflict.
        #expect(ledger.conflict(of: "p", now: start + 100) == nil)
        ledger.observe(probe: "p", school: "s", address: nat, source: .request, at: start + 200)
        let conflict = ledger.conflict(of: "p", now: start + 200)
        #expect(conflict?.switches == 2)
        #expect(conflict?.addresses == [nat, other])
        #expect(conflict?.since == start + 100)
        #expect(ledger.conflicts(now: start + 200).map(\.probe) == ["p"])
        // A day after the last switch it is over.
        let later = start + 200 + EgressLedger.conflictSpan
        #expect(ledger.conflict(of: "p", now: later) == nil)
        ledger.prune(now: later, budget: nil)
        #expect(ledger.conflicts(now: later).isEmpty)
    }

    @Test func switchesADayApartAreNoConflict() {
        var ledger = EgressLedger()
        ledger.observe(probe: "p", school: "s", address: nat, source: .request, at: start)
        ledger.observe(probe: "p", school: "s", address: other, source: .request, at: start + 10)
        ledger.observe(probe: "p", school: "s", address: nat, source: .request, at: start + 10 + EgressLedger.conflictSpan)
        #expect(ledger.conflict(of: "p", now: start + 10 + EgressLedger.conflictSpan) == nil)
    }

    @Test func aDualStackProbeIsNoConflict() {
        var ledger = EgressLedger()
        for step in 0..<10 {
            ledger.observe(probe: "p", school: "s", address: step.isMultiple(of: 2) ? nat : v6, source: .request, at: start + UnixTime(step))
        }
        #expect(ledger.conflict(of: "p", now: start + 10) == nil)
    }

    @Test func testsPerEgressOverTheLast24Hours() {
        var ledger = EgressLedger()
        ledger.observe(probe: "a-1", school: "a", address: nat, source: .request, at: start)
        ledger.observe(probe: "b-1", school: "b", address: nat, source: .request, at: start)
        for hour in 0..<3 {
            ledger.countTest(of: "a-1", measured: nil, at: start + UnixTime(hour) * 3600, budget: 4)
            ledger.countTest(of: "b-1", measured: nil, at: start + UnixTime(hour) * 3600 + 60, budget: 4)
        }
        #expect(ledger.testsLastDay(on: nat, now: start + 3 * 3600) == 6)
        let busy = ledger.overBudget(4, now: start + 3 * 3600)
        #expect(busy.map(\.address) == [nat])
        #expect(busy.first?.probes == ["a-1", "b-1"])
        #expect(busy.first?.tests == 6)
        // A measurement's own client IP counts against that address.
        #expect(ledger.countTest(of: "a-1", measured: other, at: start, budget: 4) == other)
        // A day later the tests have aged out; a larger budget clears it at once.
        #expect(ledger.overBudget(4, now: start + 30 * 3600).isEmpty)
        ledger.rebudget(10, now: start + 3 * 3600)
        #expect(ledger.overBudget(10, now: start + 3 * 3600).isEmpty)
        #expect(ledger.overBudget(nil, now: start).isEmpty)
        // A probe without an egress counts nowhere.
        #expect(ledger.countTest(of: "unknown", measured: nil, at: start, budget: 4) == nil)
    }

    @Test func anyTimeIsSafe() {
        var ledger = EgressLedger()
        for time in [UnixTime.min, -1, 0, UnixTime.max] {
            ledger.observe(probe: "p", school: "s", address: time.isMultiple(of: 2) ? nat : other, source: .measurement, at: time)
            ledger.countTest(of: "p", measured: nil, at: time, budget: 1)
            _ = ledger.conflict(of: "p", now: time)
            _ = ledger.overBudget(1, now: time)
            ledger.prune(now: time, budget: 1)
        }
    }
}
