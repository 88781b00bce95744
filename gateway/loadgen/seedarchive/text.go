package main

import (
	"math/rand/v2"
	"strings"
)

// The chats' words: customer-service English and Chinese drawn with Zipf
// frequencies, plus a long tail of made-up words (order numbers, names,
// typos), so that common, rare and unique terms all occur as in real chats.

var english = strings.Fields(`i you the to a is my it and for of we can in on your please thanks hello hi
	order delivery refund return payment account password shipping parcel invoice discount size colour price
	stock tracking address email phone help problem issue broken damaged wrong missing late cancel change
	exchange warranty receipt card coupon code login app website cart checkout product item quantity store
	service support question answer today tomorrow yesterday week days hours minutes number name this that
	what when where how will would could there our me us yes no ok not do have be sorry sure check moment
	arrive arrived sent send received email confirm confirmed update status team again still already soon
	free express standard courier box label customer price weight black white blue red green small large
	medium battery charger screen cable manual install setup error message crash slow fast great good bad`)

var chinese = strings.Fields(`你好 请问 订单 退货 换货 快递 物流 发货 收到 包裹 谢谢 客服 价格 优惠 退款 地址 电话 账号
	密码 登录 支付 付款 发票 尺码 颜色 质量 问题 已经 什么 时候 可以 没有 需要 帮忙 查询 一下 今天 明天 多久 几天
	商品 库存 活动 会员 积分 取消 修改 申请 售后 保修 破损 缺货 赠品 安装 使用 说明 客户 满意 投诉 麻烦 您好 稍等
	马上 处理 核实 确认 信息 手机 号码 邮箱 短信 验证码 下单 购物车 优惠券 折扣 包邮 运费 签收 配送 门店 仓库
	型号 规格 电池 充电器 屏幕 数据线 说明书 故障 维修 更换 补发 赔偿 反馈 建议 服务 态度 速度 很快 太慢 好的`)

var punctuation = []string{"，", "。", "？", "！", "、"}

// words draws word indexes with Zipf frequencies.
type words struct {
	list []string
	zipf *rand.Zipf
}

func newWords(r *rand.Rand, list []string) words {
	return words{list: list, zipf: rand.NewZipf(r, 1.1, 2, uint64(len(list)-1))}
}

func (w words) next() string { return w.list[w.zipf.Uint64()] }

// tail is the long tail: made-up words, word k drawn with Zipf frequency.
type tail struct {
	zipf *rand.Zipf
}

func newTail(r *rand.Rand, n int) tail { return tail{zipf: rand.NewZipf(r, 1.05, 10, uint64(n-1))} }

func (t tail) next() string { return tailWord(int(t.zipf.Uint64())) }

// tailWord is made-up word k: letters from its number, never a real word.
func tailWord(k int) string {
	const letters = "bcdfghjklmnpqrstvwxz"
	b := []byte{'q', 'x'}
	for k++; k > 0; k /= len(letters) {
		b = append(b, letters[k%len(letters)])
	}
	return string(b)
}

// texts writes chat messages.
type texts struct {
	r       *rand.Rand
	en, zh  words
	tail    tail
	inTail  map[string]bool // made-up words of the current chat
	counted map[string]int  // chats each made-up word occurs in
}

func newTexts(r *rand.Rand, tailSize int) *texts {
	return &texts{r: r, en: newWords(r, english), zh: newWords(r, chinese), tail: newTail(r, tailSize), counted: map[string]int{}}
}

// chat starts a new conversation's texts.
func (t *texts) chat() { t.inTail = map[string]bool{} }

func (t *texts) tailWord() string {
	w := t.tail.next()
	if !t.inTail[w] {
		t.inTail[w] = true
		t.counted[w]++
	}
	return w
}

// message is one message in English, Chinese or both.
func (t *texts) message(lang int) string {
	var b strings.Builder
	switch lang {
	case 0: // English
		n := 4 + t.r.IntN(14)
		for i := range n {
			if i > 0 {
				b.WriteByte(' ')
			}
			if t.r.IntN(12) == 0 {
				b.WriteString(t.tailWord())
			} else {
				b.WriteString(t.en.next())
			}
		}
		b.WriteString([]string{".", "?", "!", ""}[t.r.IntN(4)])
	case 1: // Chinese
		n := 3 + t.r.IntN(8)
		for i := range n {
			b.WriteString(t.zh.next())
			if i < n-1 && t.r.IntN(4) == 0 {
				b.WriteString(punctuation[t.r.IntN(len(punctuation))])
			}
		}
		if t.r.IntN(10) == 0 {
			b.WriteString(" " + t.tailWord())
		}
		b.WriteString(punctuation[t.r.IntN(len(punctuation))])
	default:
		b.WriteString(t.message(0))
		b.WriteByte(' ')
		b.WriteString(t.message(1))
	}
	return b.String()
}
