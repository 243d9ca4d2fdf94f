package classify

// PassiveDNSLen reports how many addresses the passive DNS map holds.
func (c *Classifier) PassiveDNSLen() int { return c.pdns.Len() }
