package visd

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// collector exposes the counters of every vEth and port in the Prometheus
// text format, read when scraped.
type collector struct{ d *Daemon }

var (
	labelsVEth = []string{"veth", "profile", "interface"}
	labelsPort = []string{"interface", "mode"}
	descs      = map[string]*prometheus.Desc{
		"veth_rx_packets": prometheus.NewDesc("niv_veth_rx_packets_total", "Frames the vEth's VM sent.", labelsVEth, nil),
		"veth_rx_bytes":   prometheus.NewDesc("niv_veth_rx_bytes_total", "Bytes the vEth's VM sent.", labelsVEth, nil),
		"veth_tx_packets": prometheus.NewDesc("niv_veth_tx_packets_total", "Frames sent to the vEth's VM.", labelsVEth, nil),
		"veth_tx_bytes":   prometheus.NewDesc("niv_veth_tx_bytes_total", "Bytes sent to the vEth's VM.", labelsVEth, nil),
		"veth_drops":      prometheus.NewDesc("niv_veth_drops_total", "Frames from or to the vEth dropped.", labelsVEth, nil),
		"veth_bound":      prometheus.NewDesc("niv_veth_bound", "1 if the vEth is bound to a VIF.", labelsVEth, nil),
		"port_rx_packets": prometheus.NewDesc("niv_port_rx_packets_total", "Frames received on the port.", labelsPort, nil),
		"port_rx_bytes":   prometheus.NewDesc("niv_port_rx_bytes_total", "Bytes received on the port.", labelsPort, nil),
		"port_tx_packets": prometheus.NewDesc("niv_port_tx_packets_total", "Frames sent on the port.", labelsPort, nil),
		"port_tx_bytes":   prometheus.NewDesc("niv_port_tx_bytes_total", "Bytes sent on the port.", labelsPort, nil),
		"port_drops":      prometheus.NewDesc("niv_port_drops_total", "Frames dropped on the port that no vEth is charged with.", labelsPort, nil),
	}
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range descs {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(name string, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(descs[name], prometheus.CounterValue, float64(v), labels...)
	}
	for _, i := range c.d.vethInfos() {
		l := []string{strconv.FormatUint(uint64(i.ID), 10), i.Profile, i.Interface}
		counter("veth_rx_packets", i.Counters.RxFrames, l...)
		counter("veth_rx_bytes", i.Counters.RxBytes, l...)
		counter("veth_tx_packets", i.Counters.TxFrames, l...)
		counter("veth_tx_bytes", i.Counters.TxBytes, l...)
		counter("veth_drops", i.Counters.Drops, l...)
		bound := 0.0
		if i.Bound {
			bound = 1
		}
		ch <- prometheus.MustNewConstMetric(descs["veth_bound"], prometheus.GaugeValue, bound, l...)
	}
	for _, p := range c.d.portInfos() {
		l := []string{p.Name, p.Mode}
		counter("port_rx_packets", p.Counters.RxFrames, l...)
		counter("port_rx_bytes", p.Counters.RxBytes, l...)
		counter("port_tx_packets", p.Counters.TxFrames, l...)
		counter("port_tx_bytes", p.Counters.TxBytes, l...)
		counter("port_drops", p.Counters.Drops, l...)
	}
}

// serveMetrics serves /metrics on addr until ctx is done.
func (d *Daemon) serveMetrics(ctx context.Context, addr string) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collector{d}); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("metrics", "err", err)
		}
	}()
	context.AfterFunc(ctx, func() { srv.Close() })
	d.log.Info("metrics on http://" + ln.Addr().String() + "/metrics")
	return nil
}
