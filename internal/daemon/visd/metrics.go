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
	labelsVEth    = []string{"veth", "profile", "interface"}
	labelsPort    = []string{"interface", "mode"}
	labelsEVBPort = []string{"interface"}
	labelsVSI     = []string{"interface", "vsiid", "veth"}
	descs         = map[string]*prometheus.Desc{
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

		"evb_unknown_vsi": prometheus.NewDesc("niv_evb_unknown_vsi_drops_total", "Frames dropped on an evb port whose source MAC and VLAN match no associated VSI (anti-spoof, DropUnknownVSI).", labelsEVBPort, nil),
		"evb_vsis":        prometheus.NewDesc("niv_evb_vsis", "VSIs the VDP bridge machine holds on the evb port.", labelsEVBPort, nil),
		"evb_station":     prometheus.NewDesc("niv_evb_station", "1 if an EVB station's TLV is heard on the evb port (LLDP).", labelsEVBPort, nil),
		"vsi_requests":    prometheus.NewDesc("niv_vdp_vsi_requests_total", "VDP requests received for the VSI, keep-alives included.", labelsVSI, nil),
		"vsi_keepalives":  prometheus.NewDesc("niv_vdp_vsi_keepalives_total", "VDP keep-alives received for the VSI.", labelsVSI, nil),
		"vsi_responses":   prometheus.NewDesc("niv_vdp_vsi_responses_total", "VDP responses sent for the VSI.", labelsVSI, nil),
		"vsi_errors":      prometheus.NewDesc("niv_vdp_vsi_errors_total", "VDP responses with an error code sent for the VSI.", labelsVSI, nil),
		"vsi_migrations":  prometheus.NewDesc("niv_vdp_vsi_migrations_total", "Moves of the VSI between evb ports.", labelsVSI, nil),
		"vdp_pdus_in":     prometheus.NewDesc("niv_vdp_pdus_received_total", "VDPDUs received by the bridge machine.", nil, nil),
		"vdp_pdus_out":    prometheus.NewDesc("niv_vdp_pdus_sent_total", "VDPDUs sent by the bridge machine.", nil, nil),
		"vdp_malformed":   prometheus.NewDesc("niv_vdp_malformed_total", "VDPDUs dropped as malformed.", nil, nil),
		"vdp_admitted":    prometheus.NewDesc("niv_vdp_admitted_total", "VSI requests admitted.", nil, nil),
		"vdp_refused":     prometheus.NewDesc("niv_vdp_refused_total", "VSI requests refused.", nil, nil),
		"vdp_keepalives":  prometheus.NewDesc("niv_vdp_keepalives_total", "VSI keep-alives received.", nil, nil),
		"vdp_expired":     prometheus.NewDesc("niv_vdp_keepalive_timeouts_total", "VSIs de-associated for want of keep-alives (unsolicited De-Associate sent).", nil, nil),
		"vdp_migrations":  prometheus.NewDesc("niv_vdp_migrations_total", "VSI migrations between evb ports.", nil, nil),
		"vdp_taken":       prometheus.NewDesc("niv_vdp_taken_total", "VSIs another VIS of the fleet took (their stations associated them there): unsolicited De-Associate sent.", nil, nil),
		"vdp_table_full":  prometheus.NewDesc("niv_vdp_table_full_total", "VSI requests refused for want of room in the machine's table.", nil, nil),
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
	if c.d.evb != nil {
		e := c.d.evbInfo()
		for _, p := range e.Ports {
			counter("evb_unknown_vsi", p.UnknownVSIDrops, p.Interface)
			ch <- prometheus.MustNewConstMetric(descs["evb_vsis"], prometheus.GaugeValue, float64(p.VSIs), p.Interface)
			station := 0.0
			if p.Station {
				station = 1
			}
			ch <- prometheus.MustNewConstMetric(descs["evb_station"], prometheus.GaugeValue, station, p.Interface)
		}
		for _, v := range c.d.vsiInfos() {
			l := []string{v.Interface, v.VSIID, ""}
			if v.VEth != 0 {
				l[2] = strconv.FormatUint(uint64(v.VEth), 10)
			}
			counter("vsi_requests", v.Counters.Requests, l...)
			counter("vsi_keepalives", v.Counters.KeepAlives, l...)
			counter("vsi_responses", v.Counters.Responses, l...)
			counter("vsi_errors", v.Counters.Errors, l...)
			counter("vsi_migrations", v.Counters.Migrations, l...)
		}
		b := e.Counters
		for name, v := range map[string]uint64{"vdp_pdus_in": b.PDUsIn, "vdp_pdus_out": b.PDUsOut, "vdp_malformed": b.Malformed,
			"vdp_admitted": b.Admitted, "vdp_refused": b.Refused, "vdp_keepalives": b.KeepAlives, "vdp_expired": b.Expired,
			"vdp_migrations": b.Migrations, "vdp_taken": b.Taken, "vdp_table_full": b.TableFull} {
			counter(name, v)
		}
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
