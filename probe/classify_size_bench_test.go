package probe_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"supportprobe/mailbox"
	"supportprobe/probe"
)

// bigMessage builds a raw message of about size bytes of the given shape.
func bigMessage(shape string, size int) []byte {
	head := "From: Tom Becker <tom@vendor.example>\r\nTo: lin@probe.example\r\nSubject: Re: Night coverage\r\n" +
		"Message-ID: <big@vendor.example>\r\nMIME-Version: 1.0\r\n"
	var body string
	switch shape {
	case "english":
		line := "Yes, we cover P1 around the clock; could you send me the contract number, please?\r\n"
		body = "Content-Type: text/plain; charset=UTF-8\r\n\r\n" + strings.Repeat(line, size/len(line))
	case "chinese":
		line := "感谢您的来信，我们的P1事件支持7x24小时服务，周末也有工程师值班，请直接拨打热线。\r\n"
		body = "Content-Type: text/plain; charset=UTF-8\r\n\r\n" + strings.Repeat(line, size/len(line))
	case "one-line":
		// One paragraph without a line break: the worst case for sentence and clause
		// splitting.
		s := "thanks for reaching out, yes we cover weekends, and the hotline answers, "
		body = "Content-Type: text/plain; charset=UTF-8\r\n\r\n" + strings.Repeat(s, size/len(s))
	case "html":
		p := "<p>Thank you for contacting us. <b>Yes</b>, P1 is covered 24x7 &amp; on weekends.</p>\r\n"
		body = "Content-Type: text/html; charset=UTF-8\r\n\r\n" + strings.Repeat(p, size/len(p))
	}
	return []byte(head + body)
}

// BenchmarkClassifyMessage classifies messages of 64, 128 and 256 KiB of several shapes
// (Parse runs outside the timed loop; BenchmarkParseAndClassify times both). The time
// per message should grow at most linearly with the size, and stay within 50 ms at
// 256 KiB:
//
//	go test -run '^$' -bench 'ClassifyMessage|ParseAndClassify' ./probe/
func BenchmarkClassifyMessage(b *testing.B) {
	for _, shape := range []string{"english", "chinese", "one-line", "html"} {
		for _, kib := range []int{64, 128, 256} {
			m, err := mailbox.Parse(bigMessage(shape, kib<<10), mailbox.ParseOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/%dKiB", shape, kib), func(b *testing.B) {
				start := cpuTime()
				for range b.N {
					probe.Classify(m, nil)
				}
				reportCPU(b, start)
			})
		}
	}
}

// BenchmarkParseAndClassify parses and classifies a 256 KiB message of each shape.
func BenchmarkParseAndClassify(b *testing.B) {
	for _, shape := range []string{"english", "chinese", "one-line", "html"} {
		raw := bigMessage(shape, 256<<10)
		b.Run(shape+"/256KiB", func(b *testing.B) {
			start := cpuTime()
			for range b.N {
				m, _ := mailbox.Parse(raw, mailbox.ParseOptions{})
				probe.Classify(m, nil)
			}
			reportCPU(b, start)
		})
	}
}

// cpuTime is the CPU time this process has used. The benchmarks report it per operation
// (cpu-ms/op) beside the wall time: on a machine shared with other work the wall time
// measures the queue for a core as much as the classifier.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
