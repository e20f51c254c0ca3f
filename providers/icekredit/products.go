package icekredit

import (
	"context"

	"github.com/authwire/authwire/outcome"
	"github.com/authwire/authwire/retry"
)

// PathNigeriaAutoDecision is the Credit Risk Level product for Nigeria.
const PathNigeriaAutoDecision = "/person-ds/credit/NigeriaAutoDecision"

// NigeriaAutoDecisionRequest asks for a Nigerian customer's credit risk level. All
// fields are required by the vendor (from its product page).
type NigeriaAutoDecisionRequest struct {
	// ID is the customer's BVN (Bank Verification Number).
	ID string `json:"ID"`
	// Mobile is the customer's phone number.
	Mobile string `json:"mobile"`
	// EquipmentSN is the device serial number in the lending system.
	EquipmentSN string `json:"equipment_sn"`
	// SN is the serial number in the lending system.
	SN string `json:"sn"`
	// BorrowCount is how many times the customer has borrowed.
	BorrowCount int `json:"borrow_count"`
}

// NigeriaAutoDecisionResult is the product's answer.
type NigeriaAutoDecisionResult struct {
	// NewCustomer is 1 for a new customer, 0 for a re-loan.
	NewCustomer int `json:"new_customer"`
	// RiskLevel is one of "Very High", "High", "Medium", "Low", "Very Low".
	RiskLevel string `json:"risk_level"`
}

// NigeriaAutoDecision returns the credit risk level of a Nigerian customer. It is a
// lookup without side effects, so it is retried after 5xx and timeouts.
func (c *Client) NigeriaAutoDecision(ctx context.Context, req NigeriaAutoDecisionRequest) (*NigeriaAutoDecisionResult, error) {
	var out struct {
		R *NigeriaAutoDecisionResult `json:"nigeria_auto_decision"`
	}
	if err := c.Do(retry.Idempotent(ctx), PathNigeriaAutoDecision, req, &out); err != nil {
		return nil, err
	}
	if out.R == nil {
		return nil, &Error{Vendor: vendor, Op: PathNigeriaAutoDecision, Code: CodeSuccess, Message: "result has no nigeria_auto_decision", Kind: outcome.Permanent}
	}
	return out.R, nil
}
