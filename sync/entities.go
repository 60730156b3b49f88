package sync

import (
	"time"

	"github.com/shopspring/decimal"
)

// The entities below are the mirror's rows as events report them. Each Field's `db` tag names its
// column in the entity's table, and a `history` tag on it says every change of the column is
// appended to the entity's history table (see Historied). Each Many's `mirror` tag names its
// child table, `parent` the child column holding the parent's external id, and `index` the
// column numbering the children (with its first value after a comma, 0 when not given). A child
// of a child (a variant's attributes) also names, in `parent_index`, the column holding its
// parent's index. Package store reads these tags, by name, to build its SQL.

// Product is a row of mirror.products: a product or a bundle.
type Product struct {
	Kind               Field[string]          `db:"kind"`
	BundleType         Field[string]          `db:"bundle_type"`
	Name               Field[string]          `db:"name" history:"true"`
	SKU                Field[string]          `db:"sku" history:"true"`
	Status             Field[string]          `db:"status" history:"true"`
	Description        Field[string]          `db:"description"`
	Slug               Field[string]          `db:"slug"`
	BrandName          Field[string]          `db:"brand_name"`
	CountryCode        Field[string]          `db:"country_code"`
	VerticalName       Field[string]          `db:"vertical_name"`
	CategoryExternalID Field[string]          `db:"category_external_id"`
	CategoryName       Field[string]          `db:"category_name"`
	Currency           Field[string]          `db:"currency"`
	Price              Field[decimal.Decimal] `db:"price" history:"true"`
	PriceMin           Field[decimal.Decimal] `db:"price_min" history:"true"`
	PriceMax           Field[decimal.Decimal] `db:"price_max" history:"true"`
	MinFaceValue       Field[decimal.Decimal] `db:"min_face_value" history:"true"`
	MaxFaceValue       Field[decimal.Decimal] `db:"max_face_value" history:"true"`
	StockQuantity      Field[int64]           `db:"stock_quantity" history:"true"`
	MaxQuantity        Field[int64]           `db:"max_quantity"`
	IsTaxable          Field[bool]            `db:"is_taxable"`
	TaxCode            Field[string]          `db:"tax_code"`
	IsShippable        Field[bool]            `db:"is_shippable"`
	CostOfGoods        Field[decimal.Decimal] `db:"cost_of_goods"`
	RestockingFee      Field[decimal.Decimal] `db:"restocking_fee"`
	ProviderCreatedAt  Field[time.Time]       `db:"provider_created_at"`

	Variants     Many[Variant]     `mirror:"product_variants" parent:"product_external_id" index:"position"`
	BundleItems  Many[BundleItem]  `mirror:"bundle_items" parent:"bundle_external_id" index:"position"`
	Images       Many[Image]       `mirror:"product_images" parent:"product_external_id" index:"position"`
	CustomFields Many[CustomField] `mirror:"product_custom_fields" parent:"product_external_id" index:"position"`
}

// Table implements Entity.
func (*Product) Table() string { return "products" }

// Historied is an entity whose changes to the columns tagged `history` are appended, one row per
// changed column, to a history table whose ParentColumn holds the entity's external id.
type Historied interface {
	Entity
	History() (table, parentColumn string)
}

// History implements Historied: name, status, sku, prices, face values and stock go to
// mirror.product_changes.
func (*Product) History() (table, parentColumn string) {
	return "product_changes", "product_external_id"
}

// Variant is a row of mirror.product_variants.
type Variant struct {
	ExternalID    string              `db:"external_id"`
	SKU           *string             `db:"sku"`
	Price         decimal.NullDecimal `db:"price"`
	StockQuantity *int64              `db:"stock_quantity"`
	Weight        decimal.NullDecimal `db:"weight"`

	Attributes []VariantAttribute `mirror:"variant_attributes" parent:"variant_external_id" parent_index:"variant_position" index:"position"`
}

// VariantAttribute is a row of mirror.variant_attributes.
type VariantAttribute struct {
	AttributeName *string `db:"attribute_name"`
	OptionName    *string `db:"option_name"`
}

// BundleItem is a row of mirror.bundle_items.
type BundleItem struct {
	ProductExternalID *string `db:"product_external_id"`
	ProductName       *string `db:"product_name"`
	Quantity          *int64  `db:"quantity"`
}

// Image is a row of mirror.product_images.
type Image struct {
	ExternalID *string `db:"external_id"`
	URL        *string `db:"url"`
	IsDefault  *bool   `db:"is_default"`
}

// CustomField is a row of mirror.product_custom_fields.
type CustomField struct {
	ExternalID *string `db:"external_id"`
	Name       *string `db:"name"`
	TokenKey   *string `db:"token_key"`
	Value      *string `db:"value"`
}

// Order is a row of mirror.orders.
type Order struct {
	OrderNumber        Field[string]          `db:"order_number"`
	RequestID          Field[string]          `db:"request_id"`
	CustomerExternalID Field[string]          `db:"customer_external_id"`
	Status             Field[string]          `db:"status"`
	PaymentStatus      Field[string]          `db:"payment_status"`
	Currency           Field[string]          `db:"currency"`
	Total              Field[decimal.Decimal] `db:"total"`
	TotalCards         Field[int64]           `db:"total_cards"`
	PlacedAt           Field[time.Time]       `db:"placed_at"`
	PaidAt             Field[time.Time]       `db:"paid_at"`
	CompletedAt        Field[time.Time]       `db:"completed_at"`
	FulfilledAt        Field[time.Time]       `db:"fulfilled_at"`
	CancelledAt        Field[time.Time]       `db:"cancelled_at"`
	RefundedAt         Field[time.Time]       `db:"refunded_at"`
	RefundedAmount     Field[decimal.Decimal] `db:"refunded_amount"`
	RefundReason       Field[string]          `db:"refund_reason"`
	CustomerPhone      Field[string]          `db:"customer_phone"`
	CustomerPhoneE164  Field[string]          `db:"customer_phone_e164"`
	CustomerEmail      Field[string]          `db:"customer_email"`
	CustomerName       Field[string]          `db:"customer_name"`

	Items Many[LineItem] `mirror:"order_items" parent:"order_external_id" index:"line_no,1"`
}

// Table implements Entity.
func (*Order) Table() string { return "orders" }

// LineItem is a row of mirror.order_items or mirror.checkout_items.
type LineItem struct {
	ProductExternalID *string             `db:"product_external_id"`
	SKU               *string             `db:"sku"`
	Title             *string             `db:"title"`
	Quantity          *int64              `db:"quantity"`
	UnitPrice         decimal.NullDecimal `db:"unit_price"`
}

// Fulfillment is a row of mirror.fulfillments.
type Fulfillment struct {
	OrderExternalID Field[string] `db:"order_external_id"`
	Type            Field[string] `db:"type"`
	Status          Field[string] `db:"status"`
	TrackingNumber  Field[string] `db:"tracking_number"`
}

// Table implements Entity.
func (*Fulfillment) Table() string { return "fulfillments" }

// Checkout is a row of mirror.checkouts: an abandoned checkout.
type Checkout struct {
	CustomerPhone     Field[string]          `db:"customer_phone"`
	CustomerPhoneE164 Field[string]          `db:"customer_phone_e164"`
	CustomerEmail     Field[string]          `db:"customer_email"`
	RecoverURL        Field[string]          `db:"recover_url"`
	Total             Field[decimal.Decimal] `db:"total"`
	Currency          Field[string]          `db:"currency"`

	Items Many[LineItem] `mirror:"checkout_items" parent:"checkout_external_id" index:"line_no,1"`
}

// Table implements Entity.
func (*Checkout) Table() string { return "checkouts" }

// Customer is a row of mirror.customers.
type Customer struct {
	Email Field[string] `db:"email"`
	Name  Field[string] `db:"name"`
	Phone Field[string] `db:"phone"`
}

// Table implements Entity.
func (*Customer) Table() string { return "customers" }

// Category is a row of mirror.categories.
type Category struct {
	Name             Field[string] `db:"name"`
	Slug             Field[string] `db:"slug"`
	Description      Field[string] `db:"description"`
	Status           Field[string] `db:"status"`
	ParentExternalID Field[string] `db:"parent_external_id"`
}

// Table implements Entity.
func (*Category) Table() string { return "categories" }

// Page is a row of mirror.pages.
type Page struct {
	Title  Field[string] `db:"title"`
	Slug   Field[string] `db:"slug"`
	Status Field[string] `db:"status"`
}

// Table implements Entity.
func (*Page) Table() string { return "pages" }

// Media is a row of mirror.media.
type Media struct {
	URL      Field[string] `db:"url"`
	Filename Field[string] `db:"filename"`
	MimeType Field[string] `db:"mime_type"`
	Width    Field[int64]  `db:"width"`
	Height   Field[int64]  `db:"height"`
	FileSize Field[int64]  `db:"file_size"`
}

// Table implements Entity.
func (*Media) Table() string { return "media" }

// StockNotification is a row of mirror.stock_notifications (Back in Stock).
type StockNotification struct {
	Status            Field[string]    `db:"status"`
	Channel           Field[string]    `db:"channel"`
	CustomerEmail     Field[string]    `db:"customer_email"`
	CustomerSMS       Field[string]    `db:"customer_sms"`
	CustomerLanguage  Field[string]    `db:"customer_language"`
	CustomerUTCOffset Field[int64]     `db:"customer_utc_offset"`
	QuantityRequired  Field[int64]     `db:"quantity_required"`
	ProductExternalID Field[string]    `db:"product_external_id"`
	ProductTitle      Field[string]    `db:"product_title"`
	VariantExternalID Field[string]    `db:"variant_external_id"`
	VariantTitle      Field[string]    `db:"variant_title"`
	SKU               Field[string]    `db:"sku"`
	CreatedAt         Field[time.Time] `db:"created_at"`
	SentAt            Field[time.Time] `db:"sent_at"`
}

// Table implements Entity.
func (*StockNotification) Table() string { return "stock_notifications" }

// StockDemand is a row of mirror.stock_demand: Back in Stock's aggregate demand for one variant.
type StockDemand struct {
	ProductExternalID        Field[string]          `db:"product_external_id"`
	SKU                      Field[string]          `db:"sku"`
	Description              Field[string]          `db:"description"`
	UnitPrice                Field[decimal.Decimal] `db:"unit_price"`
	NotificationsCount       Field[int64]           `db:"notifications_count"`
	SentNotificationsCount   Field[int64]           `db:"sent_notifications_count"`
	UnsentNotificationsCount Field[int64]           `db:"unsent_notifications_count"`
	NotificationLastAddedAt  Field[time.Time]       `db:"notification_last_added_at"`
}

// Table implements Entity.
func (*StockDemand) Table() string { return "stock_demand" }
