package stickyio

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/storemirror/storemirror/webhooks"
	"github.com/storemirror/storemirror/webhooks/webhookstest"
)

const (
	keyA = "0123456789abcdefghijklmnopqrstuv"
	keyB = "ZYXWVUTSRQPONMLKJIHGFEDCBA987654"
)

func encrypt(t *testing.T, plain, key string) []byte {
	t.Helper()
	b, err := Encrypt([]byte(plain), key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A known-answer vector built independently of Encrypt: fixed IV, AES-256-CBC, PKCS#7.
func TestDecryptKnownAnswer(t *testing.T) {
	iv := []byte("fedcba9876543210")
	plain := []byte(`{"type":"product.deleted","data":{"id":"e1","object":{"id":20}}}`)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	for i := 0; i < pad; i++ {
		plain = append(plain, byte(pad))
	}
	block, _ := aes.NewCipher([]byte(keyA))
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, plain)
	body := base64.StdEncoding.EncodeToString(append(append([]byte{}, iv...), ct...))
	got, _, err := decrypt([]byte(body), [][]byte{[]byte(keyA)}, new(json.RawMessage))
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	if string(got) != `{"type":"product.deleted","data":{"id":"e1","object":{"id":20}}}` {
		t.Errorf("plaintext = %s", got)
	}
}

func TestVerify(t *testing.T) {
	plain := `{"type":"product.deleted","time":"2024-12-18 14:48:11","data":{"id":"77bb7244","object":{"id":20}}}`
	rotating, _ := New(Options{Name: "sticky", Secrets: []string{keyB, keyA}})
	rotated, _ := New(Options{Name: "sticky", Secrets: []string{keyB}})
	notJSON := encrypt(t, "not json at all", keyA)
	cases := []webhookstest.VerifyCase{ // no header: the body is the whole request
		{"good", rotating, nil, encrypt(t, plain, keyB), true},
		{"rotated: old key still valid", rotating, nil, encrypt(t, plain, keyA), true},
		{"rotated: old key retired", rotated, nil, encrypt(t, plain, keyA), false},
		{"as a JSON string", rotating, nil, []byte(`"` + string(encrypt(t, plain, keyA)) + `"`), true},
		{"wrong key", rotating, nil, encrypt(t, plain, "wrongwrongwrongwrongwrongwrong12"), false},
		{"decrypts to something not JSON", rotating, nil, notJSON, false},
		{"decrypts to an object cut short", rotating, nil, encrypt(t, plain[:40], keyA), false},
		{"decrypts to a JSON array", rotating, nil, encrypt(t, "["+plain+"]", keyA), false},
		{"plaintext", rotating, nil, []byte(plain), false},
		{"empty", rotating, nil, nil, false},
		{"not whole blocks", rotating, nil, []byte(base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123"))), false},
	}
	webhookstest.CheckVerify(t, webhooks.Request{Now: time.Now()}, cases, "77bb7244", "product.deleted")
}

func TestNewRejectsShortKeys(t *testing.T) {
	if _, err := New(Options{Name: "s", Secrets: []string{"short"}}); err == nil {
		t.Error("a 5-character key phrase was accepted")
	}
}
