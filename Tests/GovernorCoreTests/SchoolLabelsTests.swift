import Foundation
import GovernorCore
import GovernorTestSupport
import Testing

@Suite("School labels")
struct SchoolLabelsTests {
    @Test(arguments: [
        ("isp=acme-telecom", "isp", "acme-telecom"),
        ("district=north-7", "district", "north-7"),
        ("_x1=a=b", nil, nil),
        ("region=", nil, nil),
        ("=x", nil, nil),
        ("9lives=x", nil, nil),
        ("__name__=x", nil, nil),
        ("school=x", nil, nil),
        ("isp", nil, nil),
        ("isp-name=x", nil, nil),
        ("name=Zürich", "name", "Zürich"),
    ] as [(String, String?, String?)])
    func parse(text: String, key: String?, value: String?) {
        switch SchoolLabels.parse(text) {
        case .success(let label):
            #expect(label.key == key && label.value == value, "\(text)")
        case .failure(let problem):
            #expect(key == nil, "\(text): \(problem.message)")
        }
    }

    @Test("a school's labels go over the governor's defaults, key by key, defaults' keys first")
    func defaults() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nrequire_tokens = no\nlabels = region=south, isp=default-net\n")
        try directory.write("schools/a.cfg", "[School]\nlabels = isp=acme-telecom\n  district=north-7\n[Timing]\nboundaries = 0800, 1200\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = a1\n")
        try directory.write("schools/b.cfg", "[Timing]\nboundaries = 0800, 1200\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = b1\n")
        let configuration = try ConfigLoader.load(governorFile: directory.file("governor.cfg"))
        let a = try #require(configuration.schools.first { $0.name == "a" })
        #expect(a.labels.description == "region=south, isp=acme-telecom, district=north-7")
        #expect(configuration.schools.first { $0.name == "b" }?.labels.description == "region=south, isp=default-net")
        #expect(ConfigurationDocument(configuration).schools.first?.labels == ["region": "south", "isp": "acme-telecom", "district": "north-7"])
    }

    @Test("bad labels are errors naming the label, the file and the line")
    func errors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("governor.cfg", "[Governor]\nschools = schools\nrequire_tokens = no\n")
        try directory.write("schools/a.cfg", "[School]\nlabels = isp=acme, isp=other\n  probe=x\n[Timing]\nboundaries = 0800, 1200\nruns_per_period = 1\ndelay = 1\n[Probes]\nids = a1\n")
        // The school is left out; the others would load.
        let configuration = try ConfigLoader.load(governorFile: directory.file("governor.cfg"))
        #expect(configuration.schools.isEmpty)
        let errors = configuration.problems.filter(\.isError).map(\.description)
        #expect(errors.contains { $0.hasSuffix("a.cfg:2: error: label 'isp' is given twice (lines 2 and 2)") }, "\(errors)")
        #expect(errors.contains { $0.contains("a.cfg:3: error: label name 'probe' is the governor's own") }, "\(errors)")
    }
}
