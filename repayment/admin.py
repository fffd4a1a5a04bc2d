from django.contrib import admin

from repayment.models import FollowUpCheck, Instalment, Payment, PaymentAllocation, PromiseToPay, RepaymentPlan


class InstalmentInline(admin.TabularInline):
    model = Instalment
    extra = 0
    readonly_fields = ["seq", "due_date", "amount", "paid_amount", "status", "resolved_at"]
    can_delete = False


@admin.register(RepaymentPlan)
class RepaymentPlanAdmin(admin.ModelAdmin):
    list_display = ["id", "case", "kind", "status", "amount", "waiver_amount", "instalment_count", "created_by"]
    list_filter = ["status", "kind"]
    raw_id_fields = ["case", "created_by", "decided_by"]
    inlines = [InstalmentInline]


@admin.register(PromiseToPay)
class PromiseToPayAdmin(admin.ModelAdmin):
    list_display = ["id", "case", "amount", "due_date", "grace_days", "paid_amount", "status"]
    list_filter = ["status"]
    raw_id_fields = ["case", "created_by"]


class AllocationInline(admin.TabularInline):
    model = PaymentAllocation
    extra = 0
    raw_id_fields = ["promise", "instalment"]
    can_delete = False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["receipt_no", "case", "amount", "paid_on", "channel", "held_amount", "recorded_by"]
    list_filter = ["channel"]
    search_fields = ["receipt_no", "reference"]
    raw_id_fields = ["case", "recorded_by"]
    inlines = [AllocationInline]


@admin.register(FollowUpCheck)
class FollowUpCheckAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "case", "due_at", "status", "attempts", "result"]
    list_filter = ["kind", "status"]
    search_fields = ["dedupe_key"]
    raw_id_fields = ["case", "promise", "instalment"]
