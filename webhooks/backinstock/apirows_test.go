package backinstock_test

import (
	"fmt"
	"strings"
	"testing"

	mirrorsync "github.com/storemirror/storemirror/sync"
)

// A row that cannot be read fails the pass, naming the source, path, page and what was wrong,
// and nothing of its page is applied.
func TestUnreadableRowFailsPass(t *testing.T) {
	t.Parallel()
	first := newVariants(1)[0].JSON()
	for _, c := range []struct {
		name, row, wantErr string
	}{
		{"price not a decimal", strings.Replace(first, `"unit_price":"11.90"`, `"unit_price":"$11.90"`, 1),
			`read variant 44000000000001 unit_price: "$11.90" is not a decimal`},
		{"count out of range", strings.Replace(first, `"notifications_count":3`, `"notifications_count":3000000000`, 1),
			`read variant 44000000000001: read notifications_count: 3000000000 is out of range`},
		{"count not an integer", strings.Replace(first, `"sent_notifications_count":1`, `"sent_notifications_count":1.5`, 1),
			`json: cannot unmarshal number 1.5 into Go struct field variant.sent_notifications_count of type int64`},
		{"bad time", strings.Replace(first, `"2026-03-01T11:00:00.000Z"`, `"yesterday"`, 1),
			`read variant 44000000000001 notification_last_added_at: parse time "yesterday"`},
		{"no variant_no", strings.Replace(first, `"variant_no":44000000000001,`, ``, 1), `read variant_no: missing`},
		{"variant_no not an id", strings.Replace(first, `"variant_no":44000000000001`, `"variant_no":4.5`, 1),
			`read variant_no: id "4.5" is not an integer`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.row == first {
				t.Fatal("the case does not change the row")
			}
			vs := newVariants(3)
			vs[0].Override = c.row
			g := newReportRig(t, &fakeReport{Token: reportToken, Variants: vs}, 5)
			run, err := g.pass(t, mirrorsync.ModeFull)
			want := "bis: GET /api/variants page 1: decode item 0: " + c.wantErr
			if err == nil || run.Error == nil || !strings.HasPrefix(*run.Error, want) {
				t.Errorf("run %+v, err %v; want an error starting %q", run, err, want)
			}
			if n := scalar[int](t, g.db, `SELECT count(*) FROM mirror.stock_demand`); n != 0 {
				t.Errorf("%d rows applied from a page that could not be read", n)
			}
		})
	}
}

// A bare JSON number as unit_price is read exactly too, and "" is no price.
func TestUnitPriceForms(t *testing.T) {
	t.Parallel()
	vs := newVariants(2)
	vs[0].Override = strings.Replace(vs[0].JSON(), `"unit_price":"11.90"`, `"unit_price":12345678901234567.89`, 1)
	vs[1].Override = strings.Replace(vs[1].JSON(), `"unit_price":"12.90"`, `"unit_price":""`, 1)
	g := newReportRig(t, &fakeReport{Token: reportToken, Variants: vs}, 5)
	g.mustPass(t, mirrorsync.ModeFull)
	for no, want := range map[int64]string{variantNo(1): "12345678901234567.89", variantNo(2): "NULL"} {
		got := scalar[string](t, g.db, `SELECT coalesce(unit_price::text, 'NULL') FROM mirror.stock_demand WHERE external_id = $1`, fmt.Sprint(no))
		if got != want {
			t.Errorf("variant %d unit_price = %s, want %s", no, got, want)
		}
	}
}

// A row is the variant's whole state: a key it no longer has empties its column, and raw is
// replaced, not merged.
func TestKeyLeftOutEmptiesColumn(t *testing.T) {
	t.Parallel()
	g := newReportRig(t, &fakeReport{Token: reportToken, Variants: newVariants(2)}, 5)
	g.mustPass(t, mirrorsync.ModeFull)
	g.fake.Update(1, func(v *fakeVariant) {
		v.Override = strings.Replace(v.JSON(), `"description":"Tea 1 - Large",`, ``, 1)
	})
	run := g.mustPass(t, mirrorsync.ModeFull)
	checkCounts(t, "pass", run, "succeeded pages=1 fetched=2 created=0 updated=1 deleted=0 unchanged=1 backfilled=0")
	v := g.fake.Variants[0]
	got := demandRow(t, g.db, v.No, v.JSON())
	if !strings.Contains(got, "description=NULL") || !strings.HasSuffix(got, "raw_as_sent=true") {
		t.Errorf("variant 1 = %s, want description NULL and raw without it", got)
	}
}
