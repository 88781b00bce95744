package store

import (
	"time"

	"gorm.io/gorm"
)

// observe times every database operation for cfg.Observe, through gorm's
// callbacks (before and after each kind of statement).
func observe(db *gorm.DB, fn func(op string, d time.Duration, err error)) error {
	const startKey = "kefu:start"
	before := func(db *gorm.DB) { db.InstanceSet(startKey, time.Now()) }
	after := func(op string) func(*gorm.DB) {
		return func(db *gorm.DB) {
			if v, ok := db.InstanceGet(startKey); ok {
				fn(op, time.Since(v.(time.Time)), db.Error)
			}
		}
	}
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().Before("gorm:create").Register("kefu:before_create", before),
		cb.Create().After("gorm:create").Register("kefu:after_create", after("create")),
		cb.Query().Before("gorm:query").Register("kefu:before_query", before),
		cb.Query().After("gorm:query").Register("kefu:after_query", after("query")),
		cb.Update().Before("gorm:update").Register("kefu:before_update", before),
		cb.Update().After("gorm:update").Register("kefu:after_update", after("update")),
		cb.Delete().Before("gorm:delete").Register("kefu:before_delete", before),
		cb.Delete().After("gorm:delete").Register("kefu:after_delete", after("delete")),
		cb.Row().Before("gorm:row").Register("kefu:before_row", before),
		cb.Row().After("gorm:row").Register("kefu:after_row", after("row")),
		cb.Raw().Before("gorm:raw").Register("kefu:before_raw", before),
		cb.Raw().After("gorm:raw").Register("kefu:after_raw", after("raw")),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
